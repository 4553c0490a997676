#pragma once
// Takes readings of this machine: GPUs from the first source that works (NVML, nvidia-smi,
// rocm-smi, sysfs), RAM from /proc/meminfo, CPU count and load from /proc. Blocking (it may
// run helper programs for up to `command_timeout`): use it from one background thread.
// Never throws; what failed is noted in the reading's warnings.
#include "agent/readings.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace hydra::agent {

class Nvml;

struct CollectorOptions {
  std::string proc_root = "/proc";
  std::string sysfs_root = "/sys";
  std::string search_path;                        // where nvidia-smi/rocm-smi are looked for; empty: $PATH
  std::string nvml_library = "libnvidia-ml.so.1";  // empty: do not try NVML
  std::chrono::milliseconds command_timeout{2000};
  std::string hostname;  // empty: gethostname()
};

class Collector {
public:
  explicit Collector(CollectorOptions options, const Clock& clock = SystemClock::instance());
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  Reading collect();

private:
  GpuSource read_gpus(Reading& out);
  bool from_nvml(Reading& out);
  bool from_nvidia_smi(Reading& out);
  bool from_rocm_smi(Reading& out);
  bool from_sysfs(Reading& out);

  CollectorOptions options_;
  const Clock& clock_;
  std::unique_ptr<Nvml> nvml_;
  bool nvml_tried_ = false;
  std::string nvml_open_error_;  // why NVML is not used, reported when no source works
};

// The machine's host name (gethostname), "localhost" if that fails.
std::string local_hostname();

}  // namespace hydra::agent
