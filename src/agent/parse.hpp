#pragma once
// Pure parsers for what the agent reads: nvidia-smi CSV, rocm-smi JSON, /proc and sysfs text.
// No I/O, no exceptions: bad input gives nullopt or is skipped with a note in `warnings`.
#include "agent/readings.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::agent {

// Output of `nvidia-smi --query-gpu=index,name,memory.total,memory.used,memory.free,
// utilization.gpu --format=csv,noheader,nounits`: one GPU per line. "[N/A]" (or "N/A",
// "[Not Supported]") fields become nullopt; a missing free figure is total - used. Lines that
// do not have the six fields or a numeric index are skipped and noted in `warnings`.
std::vector<Gpu> parse_nvidia_smi_csv(std::string_view text, std::vector<std::string>* warnings = nullptr);

// Output of `rocm-smi --showmeminfo vram --json`: {"card0": {"VRAM Total Memory (B)": "...",
// "VRAM Total Used Memory (B)": "..."}, ...}. Optional per-card "GPU use (%)" and
// "Card series"/"Card model" are used when present. nullopt when the text is not such JSON.
std::optional<std::vector<Gpu>> parse_rocm_smi_json(std::string_view text);

// /proc/meminfo (kB) -> MiB. Needs MemTotal; MemAvailable falls back to MemFree + Buffers +
// Cached on kernels older than 3.14.
std::optional<Ram> parse_meminfo(std::string_view text);

// /proc/loadavg: "0.52 0.58 0.59 1/389 12345".
std::optional<Load> parse_loadavg(std::string_view text);

// /proc/cpuinfo: the number of "processor" entries (0 when there are none).
unsigned parse_cpuinfo_count(std::string_view text);

// A sysfs value: one unsigned decimal integer, maybe followed by a newline.
std::optional<uint64_t> parse_sysfs_u64(std::string_view text);

// A PCI vendor id from sysfs ("0x1002") -> "AMD"; unknown ids are returned as given.
std::string vendor_name(std::string_view pci_vendor_id);

}  // namespace hydra::agent
