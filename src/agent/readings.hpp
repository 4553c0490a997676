#pragma once
// One reading of this machine's resources, as `hydra agent` serves it on GET /hydra/agent and
// sends it to a gateway. Plain data: the collector fills it, to_json renders it.
#include "common/clock.hpp"

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hydra::agent {

// Where the GPU figures came from.
enum class GpuSource { none, nvml, nvidia_smi, rocm_smi, sysfs };
const char* to_string(GpuSource source);

// One GPU. A figure the driver does not report ("[N/A]") is nullopt and rendered as null.
struct Gpu {
  unsigned index = 0;
  std::string name;
  std::string vendor;  // "NVIDIA", "AMD", ...
  std::optional<uint64_t> memory_total_mib;
  std::optional<uint64_t> memory_used_mib;
  std::optional<uint64_t> memory_free_mib;
  std::optional<double> utilization_pct;
};

// From /proc/meminfo, in MiB.
struct Ram {
  uint64_t total_mib = 0;
  uint64_t available_mib = 0;
  uint64_t swap_total_mib = 0;
  uint64_t swap_free_mib = 0;
};

// Load averages from /proc/loadavg.
struct Load {
  double load1 = 0, load5 = 0, load15 = 0;
};

struct Cpu {
  unsigned count = 0;
  Load load;
};

struct Reading {
  std::string hostname;
  GpuSource gpu_source = GpuSource::none;
  std::vector<Gpu> gpus;
  std::optional<Ram> ram;  // nullopt: /proc/meminfo unreadable
  Cpu cpu;
  WallTime updated_at{};
  // Why a source was skipped or a figure is missing ("nvidia-smi exited with status 6").
  std::vector<std::string> warnings;
};

// {"hostname", "gpu_source", "gpus":[...], "ram":{...}|null, "cpu":{...}, "updated_at", "warnings"}
boost::json::object to_json(const Gpu& gpu);
boost::json::object to_json(const Reading& reading);

}  // namespace hydra::agent
