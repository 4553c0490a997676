#include "agent/readings.hpp"

#include "common/timefmt.hpp"

#include <boost/json/array.hpp>

namespace hydra::agent {

namespace json = boost::json;

const char* to_string(GpuSource source) {
  switch (source) {
    case GpuSource::nvml: return "nvml";
    case GpuSource::nvidia_smi: return "nvidia-smi";
    case GpuSource::rocm_smi: return "rocm-smi";
    case GpuSource::sysfs: return "sysfs";
    case GpuSource::none: break;
  }
  return "none";
}

namespace {
template <class T>
json::value or_null(const std::optional<T>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}
}  // namespace

json::object to_json(const Gpu& gpu) {
  json::object o;
  o["index"] = gpu.index;
  o["name"] = gpu.name;
  o["vendor"] = gpu.vendor;
  o["memory_total_mib"] = or_null(gpu.memory_total_mib);
  o["memory_used_mib"] = or_null(gpu.memory_used_mib);
  o["memory_free_mib"] = or_null(gpu.memory_free_mib);
  o["utilization_pct"] = or_null(gpu.utilization_pct);
  return o;
}

json::object to_json(const Reading& reading) {
  json::object o;
  o["hostname"] = reading.hostname;
  o["gpu_source"] = to_string(reading.gpu_source);
  json::array gpus;
  for (const auto& g : reading.gpus) gpus.push_back(to_json(g));
  o["gpus"] = std::move(gpus);
  if (reading.ram) {
    json::object ram;
    ram["total_mib"] = reading.ram->total_mib;
    ram["available_mib"] = reading.ram->available_mib;
    ram["swap_total_mib"] = reading.ram->swap_total_mib;
    ram["swap_free_mib"] = reading.ram->swap_free_mib;
    o["ram"] = std::move(ram);
  } else {
    o["ram"] = nullptr;
  }
  json::object cpu;
  cpu["count"] = reading.cpu.count;
  cpu["load1"] = reading.cpu.load.load1;
  cpu["load5"] = reading.cpu.load.load5;
  cpu["load15"] = reading.cpu.load.load15;
  o["cpu"] = std::move(cpu);
  o["updated_at"] = rfc3339(reading.updated_at);
  json::array warnings;
  for (const auto& w : reading.warnings) warnings.push_back(json::value(w));
  o["warnings"] = std::move(warnings);
  return o;
}

}  // namespace hydra::agent
