#include "agent/parse.hpp"

#include "common/whole_number.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

namespace hydra::agent {

namespace json = boost::json;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Calls f(line) for each line, without its terminator.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto at = s.find(sep);
    out.push_back(trim(s.substr(0, at)));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

std::optional<uint64_t> to_u64(std::string_view s) { return whole_number<uint64_t>(trim(s)); }

std::optional<double> to_double(std::string_view s) { return finite_number(trim(s)); }

// Figures at or above this do not fit a uint64_t (converting them would be undefined).
constexpr double kMaxFigure = 18446744073709549568.0;

// A memory figure in MiB: an integer, or a decimal (some drivers print "24576.00").
std::optional<uint64_t> to_mib(std::string_view s) {
  if (auto v = to_u64(s)) return v;
  if (auto d = to_double(s); d && *d >= 0 && *d < kMaxFigure) return static_cast<uint64_t>(*d);
  return std::nullopt;
}

bool not_available(std::string_view s) {
  return s.empty() || s.front() == '[' || s == "N/A" || s == "n/a";
}

}  // namespace

std::vector<Gpu> parse_nvidia_smi_csv(std::string_view text, std::vector<std::string>* warnings) {
  std::vector<Gpu> out;
  auto warn = [&](std::string what) {
    if (warnings) warnings->push_back(std::move(what));
  };
  for_each_line(text, [&](std::string_view raw) {
    std::string_view line = trim(raw);
    if (line.empty()) return;
    auto f = split(line, ',');
    // A name with a comma in it splits in two: the index is first and four figures are last.
    if (f.size() < 6) {
      warn(fmt::format("nvidia-smi: skipped a line with {} fields: \"{}\"", f.size(), line));
      return;
    }
    auto index = to_u64(f[0]);
    if (!index) {
      warn(fmt::format("nvidia-smi: skipped a line without a GPU index: \"{}\"", line));
      return;
    }
    std::size_t n = f.size();
    Gpu g;
    g.index = static_cast<unsigned>(*index);
    g.vendor = "NVIDIA";
    for (std::size_t i = 1; i + 4 < n; ++i) {
      if (i > 1) g.name += ", ";
      g.name += f[i];
    }
    auto figure = [&](std::string_view field, std::optional<uint64_t>& dst, const char* what) {
      if (not_available(field)) return;
      dst = to_mib(field);
      if (!dst) warn(fmt::format("nvidia-smi: GPU {}: unreadable {} \"{}\"", g.index, what, field));
    };
    figure(f[n - 4], g.memory_total_mib, "memory.total");
    figure(f[n - 3], g.memory_used_mib, "memory.used");
    figure(f[n - 2], g.memory_free_mib, "memory.free");
    if (!not_available(f[n - 1])) {
      g.utilization_pct = to_double(f[n - 1]);
      if (!g.utilization_pct) warn(fmt::format("nvidia-smi: GPU {}: unreadable utilization.gpu \"{}\"", g.index, f[n - 1]));
    }
    if (!g.memory_free_mib && g.memory_total_mib && g.memory_used_mib)
      g.memory_free_mib = *g.memory_total_mib > *g.memory_used_mib ? *g.memory_total_mib - *g.memory_used_mib : 0;
    out.push_back(std::move(g));
  });
  return out;
}

namespace {

// rocm-smi prints figures as strings ("17163091968"); accept numbers too.
std::optional<double> json_figure(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_string()) return to_double(std::string_view(v->get_string()));
  if (v->is_number()) {
    boost::system::error_code ec;
    double d = v->to_number<double>(ec);
    if (!ec) return d;
  }
  return std::nullopt;
}

std::optional<std::string> json_text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v && v->is_string() && !v->get_string().empty()) return std::string(v->get_string());
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<Gpu>> parse_rocm_smi_json(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  const json::object* cards = ec ? nullptr : doc.if_object();
  if (!cards) return std::nullopt;
  std::vector<Gpu> out;
  for (const auto& [key, value] : *cards) {
    std::string_view k = key;
    if (!k.starts_with("card")) continue;  // "system" and the like
    auto index = to_u64(k.substr(4));
    const json::object* card = value.if_object();
    if (!index || !card) continue;
    Gpu g;
    g.index = static_cast<unsigned>(*index);
    g.vendor = "AMD";
    g.name = json_text(*card, "Card series").value_or(json_text(*card, "Card model").value_or("AMD GPU " + std::string(k)));
    auto total = json_figure(*card, "VRAM Total Memory (B)");
    auto used = json_figure(*card, "VRAM Total Used Memory (B)");
    if (total && !(*total >= 0 && *total < kMaxFigure)) total.reset();  // beyond uint64_t: not a reading
    if (used && !(*used >= 0 && *used < kMaxFigure)) used.reset();
    if (total) g.memory_total_mib = static_cast<uint64_t>(*total) / kMiB;
    if (used) g.memory_used_mib = static_cast<uint64_t>(*used) / kMiB;
    if (total && used && *total >= *used)
      g.memory_free_mib = (static_cast<uint64_t>(*total) - static_cast<uint64_t>(*used)) / kMiB;
    g.utilization_pct = json_figure(*card, "GPU use (%)");
    out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(), [](const Gpu& a, const Gpu& b) { return a.index < b.index; });
  return out;
}

std::optional<Ram> parse_meminfo(std::string_view text) {
  std::optional<uint64_t> total, available, free, buffers, cached, swap_total, swap_free;
  for_each_line(text, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string_view key = trim(line.substr(0, colon));
    std::string_view rest = trim(line.substr(colon + 1));
    if (rest.ends_with("kB")) rest = trim(rest.substr(0, rest.size() - 2));
    auto kb = to_u64(rest);
    if (!kb) return;
    if (key == "MemTotal") total = kb;
    else if (key == "MemAvailable") available = kb;
    else if (key == "MemFree") free = kb;
    else if (key == "Buffers") buffers = kb;
    else if (key == "Cached") cached = kb;
    else if (key == "SwapTotal") swap_total = kb;
    else if (key == "SwapFree") swap_free = kb;
  });
  if (!total) return std::nullopt;
  Ram r;
  r.total_mib = *total / 1024;
  uint64_t avail_kb = available ? *available : free.value_or(0) + buffers.value_or(0) + cached.value_or(0);
  r.available_mib = std::min(avail_kb, *total) / 1024;
  r.swap_total_mib = swap_total.value_or(0) / 1024;
  r.swap_free_mib = swap_free.value_or(0) / 1024;
  return r;
}

std::optional<Load> parse_loadavg(std::string_view text) {
  auto f = split(trim(text), ' ');
  if (f.size() < 3) return std::nullopt;
  auto a = to_double(f[0]), b = to_double(f[1]), c = to_double(f[2]);
  if (!a || !b || !c || *a < 0 || *b < 0 || *c < 0) return std::nullopt;
  return Load{*a, *b, *c};
}

unsigned parse_cpuinfo_count(std::string_view text) {
  unsigned n = 0;
  for_each_line(text, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon != std::string_view::npos && trim(line.substr(0, colon)) == "processor") ++n;
  });
  return n;
}

std::optional<uint64_t> parse_sysfs_u64(std::string_view text) { return to_u64(text); }

std::string vendor_name(std::string_view pci_vendor_id) {
  std::string_view id = trim(pci_vendor_id);
  if (id == "0x1002") return "AMD";
  if (id == "0x10de") return "NVIDIA";
  if (id == "0x8086") return "Intel";
  return std::string(id);
}

}  // namespace hydra::agent
