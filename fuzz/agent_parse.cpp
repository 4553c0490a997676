// Fuzz target: what `hydra agent` reads (src/agent/parse.cpp): nvidia-smi CSV, rocm-smi JSON,
// /proc/meminfo, /proc/loadavg, /proc/cpuinfo, sysfs numbers and PCI vendor ids.
#include "agent/parse.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hydra::agent;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> warnings;
  (void)parse_nvidia_smi_csv(text, &warnings);
  (void)parse_rocm_smi_json(text);
  (void)parse_meminfo(text);
  (void)parse_loadavg(text);
  (void)parse_cpuinfo_count(text);
  (void)parse_sysfs_u64(text);
  (void)vendor_name(text);
  return 0;
}
