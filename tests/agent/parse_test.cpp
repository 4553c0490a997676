// The agent's pure parsers, fed fixture text.
#include "agent/parse.hpp"
#include "agent/readings.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

using namespace hydra::agent;

TEST(NvidiaSmiCsv, MultiGpu) {
  constexpr auto text =
      "0, NVIDIA GeForce RTX 4090, 24564, 1024, 23540, 7\n"
      "1, NVIDIA A100-SXM4-80GB, 81920, 40000, 41920, 100\n";
  std::vector<std::string> warnings;
  auto gpus = parse_nvidia_smi_csv(text, &warnings);
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(gpus[0].index, 0u);
  EXPECT_EQ(gpus[0].name, "NVIDIA GeForce RTX 4090");
  EXPECT_EQ(gpus[0].vendor, "NVIDIA");
  EXPECT_EQ(gpus[0].memory_total_mib, 24564u);
  EXPECT_EQ(gpus[0].memory_used_mib, 1024u);
  EXPECT_EQ(gpus[0].memory_free_mib, 23540u);
  EXPECT_EQ(gpus[0].utilization_pct, 7.0);
  EXPECT_EQ(gpus[1].index, 1u);
  EXPECT_EQ(gpus[1].name, "NVIDIA A100-SXM4-80GB");
  EXPECT_EQ(gpus[1].memory_total_mib, 81920u);
  EXPECT_EQ(gpus[1].memory_free_mib, 41920u);
  EXPECT_EQ(gpus[1].utilization_pct, 100.0);
}

TEST(NvidiaSmiCsv, NotAvailableFieldsAreMissing) {
  auto gpus = parse_nvidia_smi_csv("0, NVIDIA Jetson, [N/A], [N/A], [N/A], [Not Supported]\n"
                                   "1, Tesla K80, 11441, 3, N/A, [N/A]\n");
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_FALSE(gpus[0].memory_total_mib);
  EXPECT_FALSE(gpus[0].memory_used_mib);
  EXPECT_FALSE(gpus[0].memory_free_mib);
  EXPECT_FALSE(gpus[0].utilization_pct);
  // A missing free figure is derived from total and used.
  EXPECT_EQ(gpus[1].memory_total_mib, 11441u);
  EXPECT_EQ(gpus[1].memory_free_mib, 11438u);
  EXPECT_FALSE(gpus[1].utilization_pct);
  auto j = to_json(gpus[0]);
  EXPECT_TRUE(j.at("memory_total_mib").is_null());
  EXPECT_TRUE(j.at("utilization_pct").is_null());
}

TEST(NvidiaSmiCsv, MalformedLinesAreSkippedWithWarnings) {
  constexpr auto text =
      "No devices were found\n"
      "\n"
      "0, Short line, 100\n"
      "x, Bad index, 1, 2, 3, 4\n"
      "2, Good GPU, 8192, 192, 8000, 3\r\n"
      "3, Odd figures, lots, 1, 2, 4\n";
  std::vector<std::string> warnings;
  auto gpus = parse_nvidia_smi_csv(text, &warnings);
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].index, 2u);
  EXPECT_EQ(gpus[0].name, "Good GPU");
  EXPECT_EQ(gpus[0].utilization_pct, 3.0);
  EXPECT_EQ(gpus[1].index, 3u);
  EXPECT_FALSE(gpus[1].memory_total_mib);
  EXPECT_EQ(gpus[1].memory_used_mib, 1u);
  EXPECT_EQ(warnings.size(), 4u);  // three skipped lines, one unreadable figure
}

TEST(NvidiaSmiCsv, NameWithCommaAndDecimalFigures) {
  auto gpus = parse_nvidia_smi_csv("0, Quadro RTX 8000, Rev. A, 49152.00, 0.5, 49151.5, 12.5");
  ASSERT_EQ(gpus.size(), 1u);
  EXPECT_EQ(gpus[0].name, "Quadro RTX 8000, Rev. A");
  EXPECT_EQ(gpus[0].memory_total_mib, 49152u);
  EXPECT_EQ(gpus[0].memory_used_mib, 0u);
  EXPECT_EQ(gpus[0].utilization_pct, 12.5);
}

TEST(NvidiaSmiCsv, EmptyOutputIsNoGpus) {
  EXPECT_TRUE(parse_nvidia_smi_csv("").empty());
  EXPECT_TRUE(parse_nvidia_smi_csv("\n\n").empty());
}

TEST(Meminfo, Figures) {
  constexpr auto text =
      "MemTotal:       16318412 kB\n"
      "MemFree:         1234567 kB\n"
      "MemAvailable:    8159206 kB\n"
      "Buffers:          204800 kB\n"
      "Cached:          4096000 kB\n"
      "SwapCached:            0 kB\n"
      "SwapTotal:       2097148 kB\n"
      "SwapFree:        1048576 kB\n"
      "HugePages_Total:       0\n";
  auto ram = parse_meminfo(text);
  ASSERT_TRUE(ram);
  EXPECT_EQ(ram->total_mib, 16318412u / 1024);
  EXPECT_EQ(ram->available_mib, 8159206u / 1024);
  EXPECT_EQ(ram->swap_total_mib, 2047u);
  EXPECT_EQ(ram->swap_free_mib, 1024u);
}

TEST(Meminfo, OldKernelWithoutMemAvailable) {
  auto ram = parse_meminfo("MemTotal: 4194304 kB\nMemFree: 1048576 kB\nBuffers: 1024 kB\nCached: 1047552 kB\n");
  ASSERT_TRUE(ram);
  EXPECT_EQ(ram->total_mib, 4096u);
  EXPECT_EQ(ram->available_mib, 2048u);
  EXPECT_EQ(ram->swap_total_mib, 0u);
}

TEST(Meminfo, Unusable) {
  EXPECT_FALSE(parse_meminfo(""));
  EXPECT_FALSE(parse_meminfo("MemFree: 10 kB\n"));
  EXPECT_FALSE(parse_meminfo("MemTotal: lots kB\n"));
}

TEST(Loadavg, Figures) {
  auto load = parse_loadavg("0.52 0.58 1.59 1/389 12345\n");
  ASSERT_TRUE(load);
  EXPECT_DOUBLE_EQ(load->load1, 0.52);
  EXPECT_DOUBLE_EQ(load->load5, 0.58);
  EXPECT_DOUBLE_EQ(load->load15, 1.59);
}

TEST(Loadavg, Unusable) {
  EXPECT_FALSE(parse_loadavg(""));
  EXPECT_FALSE(parse_loadavg("0.5 0.4"));
  EXPECT_FALSE(parse_loadavg("a b c 1/2 3"));
  EXPECT_FALSE(parse_loadavg("-1 0 0 1/2 3"));
}

TEST(Cpuinfo, CountsProcessors) {
  EXPECT_EQ(parse_cpuinfo_count("processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\nmodel name\t: X\n"), 2u);
  EXPECT_EQ(parse_cpuinfo_count("Hardware\t: BCM2835\n"), 0u);
}

TEST(Sysfs, Values) {
  EXPECT_EQ(parse_sysfs_u64("17163091968\n"), 17163091968ull);
  EXPECT_FALSE(parse_sysfs_u64(""));
  EXPECT_FALSE(parse_sysfs_u64("-1\n"));
  EXPECT_FALSE(parse_sysfs_u64("12 kB"));
  EXPECT_EQ(vendor_name("0x1002\n"), "AMD");
  EXPECT_EQ(vendor_name("0x10de"), "NVIDIA");
  EXPECT_EQ(vendor_name("0xabcd"), "0xabcd");
}

TEST(RocmSmiJson, Cards) {
  constexpr auto text = R"js({
    "card1": {"VRAM Total Memory (B)": "25753026560", "VRAM Total Used Memory (B)": "1073741824", "GPU use (%)": "15"},
    "card0": {"VRAM Total Memory (B)": "17163091968", "VRAM Total Used Memory (B)": "10801152", "Card series": "Radeon RX 7900 XTX"},
    "system": {"Driver version": "6.2.4"}
  })js";
  auto gpus = parse_rocm_smi_json(text);
  ASSERT_TRUE(gpus);
  ASSERT_EQ(gpus->size(), 2u);
  const auto& a = (*gpus)[0];
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.name, "Radeon RX 7900 XTX");
  EXPECT_EQ(a.vendor, "AMD");
  EXPECT_EQ(a.memory_total_mib, 16368u);
  EXPECT_EQ(a.memory_used_mib, 10u);
  EXPECT_EQ(a.memory_free_mib, (17163091968ull - 10801152ull) >> 20);
  EXPECT_FALSE(a.utilization_pct);
  const auto& b = (*gpus)[1];
  EXPECT_EQ(b.index, 1u);
  EXPECT_EQ(b.name, "AMD GPU card1");
  EXPECT_EQ(b.memory_total_mib, 24560u);
  EXPECT_EQ(b.utilization_pct, 15.0);
}

TEST(RocmSmiJson, Unusable) {
  EXPECT_FALSE(parse_rocm_smi_json("WARNING: no AMD GPUs"));
  EXPECT_FALSE(parse_rocm_smi_json("[1,2]"));
  auto none = parse_rocm_smi_json("{}");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(ReadingJson, Shape) {
  Reading r;
  r.hostname = "box";
  r.gpu_source = GpuSource::nvidia_smi;
  r.gpus = parse_nvidia_smi_csv("0, GPU A, 100, 40, 60, 5\n");
  r.ram = Ram{1000, 500, 10, 5};
  r.cpu = Cpu{8, Load{1, 2, 3}};
  r.updated_at = hydra::WallTime(std::chrono::seconds(1'700'000'000));
  auto j = to_json(r);
  EXPECT_EQ(j.at("hostname").as_string(), "box");
  EXPECT_EQ(j.at("gpu_source").as_string(), "nvidia-smi");
  EXPECT_EQ(j.at("gpus").as_array().size(), 1u);
  EXPECT_EQ(j.at("gpus").as_array()[0].at("memory_free_mib").to_number<uint64_t>(), 60u);
  EXPECT_EQ(j.at("ram").at("total_mib").to_number<uint64_t>(), 1000u);
  EXPECT_EQ(j.at("ram").at("swap_free_mib").to_number<uint64_t>(), 5u);
  EXPECT_EQ(j.at("cpu").at("count").to_number<unsigned>(), 8u);
  EXPECT_DOUBLE_EQ(j.at("cpu").at("load15").to_number<double>(), 3.0);
  EXPECT_EQ(j.at("updated_at").as_string(), "2023-11-14T22:13:20.000000000Z");
  r.ram.reset();
  EXPECT_TRUE(to_json(r).at("ram").is_null());
  EXPECT_STREQ(to_string(GpuSource::none), "none");
  EXPECT_STREQ(to_string(GpuSource::nvml), "nvml");
  EXPECT_STREQ(to_string(GpuSource::rocm_smi), "rocm-smi");
  EXPECT_STREQ(to_string(GpuSource::sysfs), "sysfs");
}
