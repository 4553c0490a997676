// The collector against fixture /proc and /sys trees, fake nvidia-smi/rocm-smi scripts and a
// fake NVML library; the command runner; the background sampler.
#include "agent/collector.hpp"
#include "agent/command.hpp"
#include "agent/nvml.hpp"
#include "agent/sampler.hpp"
#include "support/http_client.hpp"

#include <gtest/gtest.h>

using namespace hydra::agent;
using namespace std::chrono_literals;

namespace {

const std::string kFixtures = HYDRA_AGENT_FIXTURES;

CollectorOptions fixture_options(const std::string& bin_dir) {
  CollectorOptions o;
  o.proc_root = kFixtures + "/proc";
  o.sysfs_root = kFixtures + "/sysfs-amd";
  o.search_path = bin_dir.empty() ? kFixtures + "/no-such-dir" : kFixtures + "/" + bin_dir;
  o.nvml_library = "";  // NVML tests set it
  o.hostname = "fixture-host";
  return o;
}

bool has_warning(const Reading& r, std::string_view text) {
  for (const auto& w : r.warnings)
    if (w.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(Collector, NvidiaSmiOnPath) {
  Collector c(fixture_options("bin-nvidia"));
  Reading r = c.collect();
  EXPECT_EQ(r.gpu_source, GpuSource::nvidia_smi);
  EXPECT_EQ(r.hostname, "fixture-host");
  ASSERT_EQ(r.gpus.size(), 2u);
  EXPECT_EQ(r.gpus[0].name, "NVIDIA GeForce RTX 4090");
  EXPECT_EQ(r.gpus[0].memory_total_mib, 24564u);
  EXPECT_EQ(r.gpus[0].memory_used_mib, 2048u);
  EXPECT_EQ(r.gpus[0].memory_free_mib, 22516u);
  EXPECT_EQ(r.gpus[0].utilization_pct, 35.0);
  EXPECT_EQ(r.gpus[1].index, 1u);
  EXPECT_EQ(r.gpus[1].memory_total_mib, 12288u);
  EXPECT_FALSE(r.gpus[1].memory_free_mib);
  EXPECT_FALSE(r.gpus[1].utilization_pct);
  // RAM, swap and CPU from the fixture /proc.
  ASSERT_TRUE(r.ram);
  EXPECT_EQ(r.ram->total_mib, 32000u);
  EXPECT_EQ(r.ram->available_mib, 16000u);
  EXPECT_EQ(r.ram->swap_total_mib, 4096u);
  EXPECT_EQ(r.ram->swap_free_mib, 3072u);
  EXPECT_EQ(r.cpu.count, 6u);
  EXPECT_DOUBLE_EQ(r.cpu.load.load1, 1.25);
  EXPECT_DOUBLE_EQ(r.cpu.load.load5, 0.75);
  EXPECT_DOUBLE_EQ(r.cpu.load.load15, 0.50);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
}

TEST(Collector, FailingNvidiaSmiFallsBackToSysfs) {
  Collector c(fixture_options("bin-nvidia-fail"));
  Reading r = c.collect();
  EXPECT_EQ(r.gpu_source, GpuSource::sysfs);
  EXPECT_TRUE(has_warning(r, "nvidia-smi exited with status 9"));
  EXPECT_TRUE(has_warning(r, "couldn't communicate with the NVIDIA driver"));
}

TEST(Collector, NoNvidiaSmiMeansSysfs) {
  Collector c(fixture_options(""));
  Reading r = c.collect();
  EXPECT_EQ(r.gpu_source, GpuSource::sysfs);
  // card0 and card2 have VRAM figures; card1 (Intel, none) and the card0-DP-1 connector do not.
  ASSERT_EQ(r.gpus.size(), 2u);
  const Gpu& a = r.gpus[0];
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.name, "AMD Radeon Pro W6800");
  EXPECT_EQ(a.vendor, "AMD");
  EXPECT_EQ(a.memory_total_mib, 16384u);
  EXPECT_EQ(a.memory_used_mib, 4096u);
  EXPECT_EQ(a.memory_free_mib, 12288u);
  EXPECT_EQ(a.utilization_pct, 42.0);
  const Gpu& b = r.gpus[1];
  EXPECT_EQ(b.index, 1u);
  EXPECT_EQ(b.name, "AMD GPU (card2)");
  EXPECT_EQ(b.memory_total_mib, 8192u);
  EXPECT_EQ(b.memory_free_mib, 7168u);
  EXPECT_FALSE(b.utilization_pct);
}

TEST(Collector, NothingFoundMeansNone) {
  auto o = fixture_options("");
  o.sysfs_root = kFixtures + "/no-such-sysfs";
  Collector c(o);
  Reading r = c.collect();
  EXPECT_EQ(r.gpu_source, GpuSource::none);
  EXPECT_TRUE(r.gpus.empty());
  EXPECT_TRUE(has_warning(r, "no GPU found"));
  EXPECT_TRUE(r.ram);  // memory and CPU are still reported
  EXPECT_EQ(r.cpu.count, 6u);
}

TEST(Collector, FallbackOrderOverSeveralReadings) {
  // One collector, the world changing under it: nvidia-smi, then none on PATH (sysfs), then
  // no sysfs either (none).
  auto o = fixture_options("bin-nvidia");
  Collector with_smi(o);
  EXPECT_EQ(with_smi.collect().gpu_source, GpuSource::nvidia_smi);
  o.search_path = kFixtures + "/no-such-dir";
  Collector without_smi(o);
  EXPECT_EQ(without_smi.collect().gpu_source, GpuSource::sysfs);
  o.sysfs_root = kFixtures + "/no-such-sysfs";
  Collector bare(o);
  EXPECT_EQ(bare.collect().gpu_source, GpuSource::none);
}

TEST(Collector, HangingNvidiaSmiIsKilled) {
  auto o = fixture_options("bin-nvidia-hang");
  o.command_timeout = 300ms;
  Collector c(o);
  auto start = std::chrono::steady_clock::now();
  Reading r = c.collect();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 5s);
  EXPECT_EQ(r.gpu_source, GpuSource::sysfs);
  EXPECT_TRUE(has_warning(r, "killed"));
}

TEST(Collector, NvidiaSmiListingNothingFallsThrough) {
  Collector c(fixture_options("bin-nvidia-empty"));
  Reading r = c.collect();
  EXPECT_EQ(r.gpu_source, GpuSource::sysfs);
  EXPECT_TRUE(has_warning(r, "nvidia-smi listed no GPUs"));
}

TEST(Collector, RocmSmiBeforeSysfs) {
  Collector c(fixture_options("bin-rocm"));
  Reading r = c.collect();
  EXPECT_EQ(r.gpu_source, GpuSource::rocm_smi);
  ASSERT_EQ(r.gpus.size(), 1u);
  EXPECT_EQ(r.gpus[0].name, "Radeon RX 7900 XTX");
  EXPECT_EQ(r.gpus[0].memory_total_mib, 24560u);
  EXPECT_EQ(r.gpus[0].memory_used_mib, 2048u);
}

TEST(Collector, NvmlFirstWhenItLoads) {
  auto o = fixture_options("bin-nvidia");
  o.nvml_library = FAKE_NVML_PATH;
  Collector c(o);
  for (int i = 0; i < 2; ++i) {  // the library stays loaded between readings
    Reading r = c.collect();
    EXPECT_EQ(r.gpu_source, GpuSource::nvml);
    ASSERT_EQ(r.gpus.size(), 2u);
    EXPECT_EQ(r.gpus[0].name, "NVIDIA Fake A100-SXM4-40GB");
    EXPECT_EQ(r.gpus[0].vendor, "NVIDIA");
    EXPECT_EQ(r.gpus[0].memory_total_mib, 40960u);
    EXPECT_EQ(r.gpus[0].memory_used_mib, 10000u);
    EXPECT_EQ(r.gpus[0].memory_free_mib, 30960u);
    EXPECT_EQ(r.gpus[0].utilization_pct, 87.0);
    EXPECT_EQ(r.gpus[1].name, "NVIDIA Fake T4");
    EXPECT_EQ(r.gpus[1].memory_free_mib, 15000u);
    EXPECT_FALSE(r.gpus[1].utilization_pct);
  }
}

TEST(Collector, AbsentNvmlFallsThroughCleanly) {
  auto o = fixture_options("bin-nvidia");
  o.nvml_library = "libhydra-test-no-such-nvml.so.1";
  Collector c(o);
  EXPECT_EQ(c.collect().gpu_source, GpuSource::nvidia_smi);
  o.search_path = kFixtures + "/no-such-dir";
  o.sysfs_root = kFixtures + "/no-such-sysfs";
  Collector none(o);
  Reading r = none.collect();
  EXPECT_EQ(r.gpu_source, GpuSource::none);
  EXPECT_TRUE(has_warning(r, "NVML: cannot load libhydra-test-no-such-nvml.so.1"));
}

TEST(Nvml, OpenFailsCleanly) {
  std::string why;
  EXPECT_FALSE(Nvml::open("libhydra-test-no-such-nvml.so.1", &why));
  EXPECT_NE(why.find("cannot load"), std::string::npos) << why;
  // A library that loads but is not NVML.
  EXPECT_FALSE(Nvml::open("libm.so.6", &why));
  EXPECT_NE(why.find("lacks nvmlInit_v2"), std::string::npos) << why;
  // The real library is absent on machines without the NVIDIA driver: either way, no crash.
  auto real = Nvml::open("libnvidia-ml.so.1", &why);
  (void)real;
}

TEST(Collector, MissingProcIsReportedNotFatal) {
  auto o = fixture_options("bin-nvidia");
  o.proc_root = kFixtures + "/no-such-proc";
  Collector c(o);
  Reading r = c.collect();
  EXPECT_FALSE(r.ram);
  EXPECT_GE(r.cpu.count, 1u);  // from sysconf
  EXPECT_TRUE(has_warning(r, "meminfo"));
  EXPECT_TRUE(has_warning(r, "loadavg"));
}

TEST(Command, OutputAndExitStatus) {
  auto sh = find_program("sh", "/usr/bin:/bin");
  ASSERT_TRUE(sh);
  auto r = run_command({*sh, "-c", "printf 'hello\\n'; echo oops >&2; exit 3"}, 5s);
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "hello\n");  // stderr is not captured
  EXPECT_FALSE(r.ok());
  auto fine = run_command({*sh, "-c", "echo ok"}, 5s);
  EXPECT_TRUE(fine.ok());
}

TEST(Command, TimeoutKillsTheProcessGroup) {
  auto sh = find_program("sh", "/usr/bin:/bin");
  ASSERT_TRUE(sh);
  auto start = std::chrono::steady_clock::now();
  // The shell's child keeps stdout open: killing only the shell would leave it running.
  auto r = run_command({*sh, "-c", "echo partial; sleep 30; echo never"}, 200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.out, "partial\n");
  EXPECT_FALSE(r.ok());
}

TEST(Command, MissingProgram) {
  auto r = run_command({"/nonexistent/hydra-no-such-program"}, 1s);
  EXPECT_FALSE(r.started);
  EXPECT_FALSE(r.error.empty());
  EXPECT_FALSE(run_command({}, 1s).started);
}

TEST(Command, FindProgram) {
  auto found = find_program("nvidia-smi", kFixtures + "/no-such-dir:" + kFixtures + "/bin-nvidia");
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, kFixtures + "/bin-nvidia/nvidia-smi");
  EXPECT_FALSE(find_program("nvidia-smi", kFixtures + "/bin-rocm"));
  EXPECT_FALSE(find_program("meminfo", kFixtures + "/proc"));  // not executable
  EXPECT_FALSE(find_program("nvidia-smi", ""));
}

TEST(Sampler, RefreshesInTheBackground) {
  Collector c(fixture_options(""));
  ReadingStore store;
  EXPECT_FALSE(store.latest());
  EXPECT_FALSE(store.latest_body());
  Sampler sampler(c, store, 20ms);
  sampler.start();
  ASSERT_TRUE(hydra::test::wait_for([&] { return store.latest() != nullptr; }, 5s));
  auto first = store.latest();
  EXPECT_TRUE(hydra::test::wait_for([&] { return store.latest()->updated_at > first->updated_at; }, 5s));
  auto body = store.latest_body();
  ASSERT_TRUE(body);
  EXPECT_NE(body->find("\"gpu_source\":\"sysfs\""), std::string::npos);
  sampler.stop();
}
