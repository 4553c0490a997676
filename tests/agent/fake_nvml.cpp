// A stand-in for libnvidia-ml.so.1, built as a shared library so that the agent's dlopen path
// is exercised on machines without an NVIDIA driver. Two GPUs; the second has no utilisation.
#include <cstring>

extern "C" {

struct nvmlDevice_st {
  unsigned index;
};
typedef nvmlDevice_st* nvmlDevice_t;
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlUtilization_t {
  unsigned int gpu, memory;
};

static nvmlDevice_st devices[2] = {{0}, {1}};
static int initialised = 0;

int nvmlInit_v2() {
  ++initialised;
  return 0;
}
int nvmlShutdown() {
  --initialised;
  return 0;
}
int nvmlDeviceGetCount_v2(unsigned int* count) {
  if (!initialised) return 1;  // NVML_ERROR_UNINITIALIZED
  *count = 2;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  if (index >= 2) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *device = &devices[index];
  return 0;
}
int nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  const char* names[] = {"NVIDIA Fake A100-SXM4-40GB", "NVIDIA Fake T4"};
  std::strncpy(name, names[device->index], length);
  return 0;
}
int nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
  const unsigned long long MiB = 1ull << 20;
  if (device->index == 0) *memory = {40960 * MiB, 30960 * MiB, 10000 * MiB};
  else *memory = {15360 * MiB, 15000 * MiB, 360 * MiB};
  return 0;
}
int nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t* util) {
  if (device->index == 1) return 3;  // NVML_ERROR_NOT_SUPPORTED
  *util = {87, 40};
  return 0;
}
const char* nvmlErrorString(int) { return "fake error"; }

}  // extern "C"
