#include "agent/nvml.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

namespace hydra::agent {

namespace {

// The few NVML C API types and entry points the agent uses (nvml.h, stable ABI).
using nvmlReturn_t = int;
constexpr nvmlReturn_t NVML_SUCCESS = 0;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;
struct nvmlMemory_t {
  unsigned long long total;  // bytes
  unsigned long long free;
  unsigned long long used;
};
struct nvmlUtilization_t {
  unsigned int gpu;  // percent of time a kernel was running over the last sample period
  unsigned int memory;
};
constexpr unsigned kNameBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE

using InitFn = nvmlReturn_t (*)();
using ShutdownFn = nvmlReturn_t (*)();
using CountFn = nvmlReturn_t (*)(unsigned int*);
using HandleFn = nvmlReturn_t (*)(unsigned int, nvmlDevice_t*);
using NameFn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned int);
using MemoryFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*);
using UtilFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlUtilization_t*);
using ErrorStringFn = const char* (*)(nvmlReturn_t);

constexpr unsigned long long kMiB = 1ull << 20;

}  // namespace

struct Nvml::Api {
  void* handle = nullptr;
  InitFn init = nullptr;
  ShutdownFn shutdown = nullptr;
  CountFn count = nullptr;
  HandleFn by_index = nullptr;
  NameFn name = nullptr;
  MemoryFn memory = nullptr;
  UtilFn utilization = nullptr;
  ErrorStringFn error_string = nullptr;  // optional

  std::string describe(nvmlReturn_t rc) const {
    const char* text = error_string ? error_string(rc) : nullptr;
    return text ? fmt::format("{} ({})", text, rc) : fmt::format("error {}", rc);
  }
};

std::unique_ptr<Nvml> Nvml::open(const std::string& library, std::string* why) {
  auto fail = [&](std::string reason) -> std::unique_ptr<Nvml> {
    if (why) *why = std::move(reason);
    return nullptr;
  };
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = dlerror();
    return fail(fmt::format("NVML: cannot load {}: {}", library, err ? err : "unknown error"));
  }
  auto api = std::make_unique<Api>();
  api->handle = handle;
  bool missing = false;
  std::string which;
  auto sym = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, name));
    if (!fn) {
      missing = true;
      if (which.empty()) which = name;
    }
  };
  sym(api->init, "nvmlInit_v2");
  sym(api->shutdown, "nvmlShutdown");
  sym(api->count, "nvmlDeviceGetCount_v2");
  sym(api->by_index, "nvmlDeviceGetHandleByIndex_v2");
  sym(api->name, "nvmlDeviceGetName");
  sym(api->memory, "nvmlDeviceGetMemoryInfo");
  sym(api->utilization, "nvmlDeviceGetUtilizationRates");
  api->error_string = reinterpret_cast<ErrorStringFn>(dlsym(handle, "nvmlErrorString"));
  if (missing) {
    dlclose(handle);
    return fail(fmt::format("NVML: {} lacks {}", library, which));
  }
  if (nvmlReturn_t rc = api->init(); rc != NVML_SUCCESS) {
    std::string reason = fmt::format("NVML: nvmlInit_v2 failed: {}", api->describe(rc));
    dlclose(handle);
    return fail(std::move(reason));
  }
  return std::unique_ptr<Nvml>(new Nvml(std::move(api)));
}

Nvml::Nvml(std::unique_ptr<Api> api) : api_(std::move(api)) {}

Nvml::~Nvml() {
  api_->shutdown();
  dlclose(api_->handle);
}

std::optional<std::vector<Gpu>> Nvml::read(std::vector<std::string>& warnings) const {
  unsigned int count = 0;
  if (nvmlReturn_t rc = api_->count(&count); rc != NVML_SUCCESS) {
    warnings.push_back(fmt::format("NVML: nvmlDeviceGetCount_v2 failed: {}", api_->describe(rc)));
    return std::nullopt;
  }
  std::vector<Gpu> out;
  for (unsigned int i = 0; i < count; ++i) {
    Gpu g;
    g.index = i;
    g.vendor = "NVIDIA";
    nvmlDevice_t device = nullptr;
    if (nvmlReturn_t rc = api_->by_index(i, &device); rc != NVML_SUCCESS) {
      warnings.push_back(fmt::format("NVML: GPU {}: no handle: {}", i, api_->describe(rc)));
      g.name = fmt::format("GPU {}", i);
      out.push_back(std::move(g));
      continue;
    }
    char name[kNameBufferSize] = {};
    if (api_->name(device, name, sizeof name) == NVML_SUCCESS) {
      name[sizeof name - 1] = '\0';
      g.name = name;
    } else {
      g.name = fmt::format("GPU {}", i);
    }
    nvmlMemory_t memory{};
    if (nvmlReturn_t rc = api_->memory(device, &memory); rc == NVML_SUCCESS) {
      g.memory_total_mib = memory.total / kMiB;
      g.memory_used_mib = memory.used / kMiB;
      g.memory_free_mib = memory.free / kMiB;
    } else {
      warnings.push_back(fmt::format("NVML: GPU {}: no memory figures: {}", i, api_->describe(rc)));
    }
    nvmlUtilization_t util{};
    if (api_->utilization(device, &util) == NVML_SUCCESS) g.utilization_pct = util.gpu;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace hydra::agent
