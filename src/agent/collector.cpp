#include "agent/collector.hpp"

#include "agent/command.hpp"
#include "agent/nvml.hpp"
#include "agent/parse.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace hydra::agent {

namespace fs = std::filesystem;

namespace {

// A small text file (/proc, /sys); nullopt when unreadable.
std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(s).str();
}

std::optional<uint64_t> read_u64(const fs::path& path) {
  auto text = read_file(path);
  return text ? parse_sysfs_u64(*text) : std::nullopt;
}

std::string first_line(std::string_view text) {
  auto nl = text.find('\n');
  std::string line(text.substr(0, nl));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace

std::string local_hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

Collector::Collector(CollectorOptions options, const Clock& clock) : options_(std::move(options)), clock_(clock) {
  if (options_.hostname.empty()) options_.hostname = local_hostname();
  if (options_.search_path.empty()) {
    const char* path = std::getenv("PATH");
    options_.search_path = path ? path : "/usr/local/bin:/usr/bin:/bin";
  }
}

Collector::~Collector() = default;

Reading Collector::collect() {
  Reading r;
  r.hostname = options_.hostname;
  r.gpu_source = read_gpus(r);

  fs::path proc(options_.proc_root);
  if (auto text = read_file(proc / "meminfo")) {
    r.ram = parse_meminfo(*text);
    if (!r.ram) r.warnings.push_back("no MemTotal in " + (proc / "meminfo").string());
  } else {
    r.warnings.push_back("cannot read " + (proc / "meminfo").string());
  }
  if (auto text = read_file(proc / "loadavg")) {
    if (auto load = parse_loadavg(*text)) r.cpu.load = *load;
    else r.warnings.push_back("unreadable " + (proc / "loadavg").string());
  } else {
    r.warnings.push_back("cannot read " + (proc / "loadavg").string());
  }
  if (auto text = read_file(proc / "cpuinfo")) r.cpu.count = parse_cpuinfo_count(*text);
  if (r.cpu.count == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    r.cpu.count = n > 0 ? static_cast<unsigned>(n) : 1;
  }
  r.updated_at = clock_.wall();
  return r;
}

GpuSource Collector::read_gpus(Reading& out) {
  if (from_nvml(out)) return GpuSource::nvml;
  if (from_nvidia_smi(out)) return GpuSource::nvidia_smi;
  if (from_rocm_smi(out)) return GpuSource::rocm_smi;
  if (from_sysfs(out)) return GpuSource::sysfs;
  out.gpus.clear();
  if (!nvml_open_error_.empty()) out.warnings.push_back(nvml_open_error_);
  out.warnings.push_back("no GPU found (NVML, nvidia-smi, rocm-smi, sysfs)");
  return GpuSource::none;
}

bool Collector::from_nvml(Reading& out) {
  if (options_.nvml_library.empty()) return false;
  // Loaded once: on a machine without the driver the attempt is not repeated every second.
  if (!nvml_tried_) {
    nvml_tried_ = true;
    std::string why;
    nvml_ = Nvml::open(options_.nvml_library, &why);
    if (!nvml_) nvml_open_error_ = why;
  }
  if (!nvml_) return false;
  auto gpus = nvml_->read(out.warnings);
  if (!gpus || gpus->empty()) return false;
  out.gpus = std::move(*gpus);
  return true;
}

bool Collector::from_nvidia_smi(Reading& out) {
  auto program = find_program("nvidia-smi", options_.search_path);
  if (!program) return false;
  auto r = run_command({*program,
                        "--query-gpu=index,name,memory.total,memory.used,memory.free,utilization.gpu",
                        "--format=csv,noheader,nounits"},
                       options_.command_timeout);
  if (!r.ok()) {
    out.warnings.push_back(!r.error.empty() ? r.error
                                            : fmt::format("nvidia-smi exited with status {}: {}", r.exit_code,
                                                          first_line(r.out)));
    return false;
  }
  auto gpus = parse_nvidia_smi_csv(r.out, &out.warnings);
  if (gpus.empty()) {
    out.warnings.push_back("nvidia-smi listed no GPUs");
    return false;
  }
  out.gpus = std::move(gpus);
  return true;
}

bool Collector::from_rocm_smi(Reading& out) {
  auto program = find_program("rocm-smi", options_.search_path);
  if (!program) return false;
  auto r = run_command({*program, "--showmeminfo", "vram", "--json"}, options_.command_timeout);
  if (!r.ok()) {
    out.warnings.push_back(!r.error.empty() ? r.error : fmt::format("rocm-smi exited with status {}", r.exit_code));
    return false;
  }
  auto gpus = parse_rocm_smi_json(r.out);
  if (!gpus || gpus->empty()) {
    out.warnings.push_back("rocm-smi listed no GPUs");
    return false;
  }
  out.gpus = std::move(*gpus);
  return true;
}

bool Collector::from_sysfs(Reading& out) {
  // /sys/class/drm/cardN/device/mem_info_vram_{total,used}: amdgpu's figures, in bytes.
  fs::path drm = fs::path(options_.sysfs_root) / "class" / "drm";
  std::error_code ec;
  std::vector<std::pair<unsigned, fs::path>> cards;
  for (fs::directory_iterator it(drm, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with("card") || name.size() == 4) continue;
    auto number = parse_sysfs_u64(std::string_view(name).substr(4));  // card0, not card0-DP-1
    if (number) cards.emplace_back(static_cast<unsigned>(*number), it->path());
  }
  std::sort(cards.begin(), cards.end());
  std::vector<Gpu> gpus;
  constexpr uint64_t kMiB = 1ull << 20;
  for (const auto& [number, card] : cards) {
    fs::path device = card / "device";
    auto total = read_u64(device / "mem_info_vram_total");
    if (!total) continue;
    Gpu g;
    g.index = static_cast<unsigned>(gpus.size());
    auto vendor = read_file(device / "vendor");
    g.vendor = vendor ? vendor_name(*vendor) : "AMD";
    auto product = read_file(device / "product_name");
    std::string product_name = product ? first_line(*product) : std::string();
    g.name = !product_name.empty() ? product_name : fmt::format("{} GPU (card{})", g.vendor, number);
    g.memory_total_mib = *total / kMiB;
    if (auto used = read_u64(device / "mem_info_vram_used")) {
      g.memory_used_mib = *used / kMiB;
      g.memory_free_mib = (*total > *used ? *total - *used : 0) / kMiB;
    } else {
      out.warnings.push_back(fmt::format("sysfs: card{}: no mem_info_vram_used", number));
    }
    if (auto busy = read_u64(device / "gpu_busy_percent")) g.utilization_pct = static_cast<double>(*busy);
    gpus.push_back(std::move(g));
  }
  if (gpus.empty()) return false;
  out.gpus = std::move(gpus);
  return true;
}

}  // namespace hydra::agent
