#include "sim/residency.hpp"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::sim;
using namespace std::chrono;

namespace {

constexpr uint64_t GB = 1'000'000'000ull;

ModelSpec model(std::string name, double gb) { return make_model_spec(name, gb, WallTime{}); }

Resources res(double vram_gb, double ram_gb, int max_loaded = 0, seconds load = seconds(2)) {
  return Resources{static_cast<uint64_t>(vram_gb * GB), static_cast<uint64_t>(ram_gb * GB), max_loaded, load};
}

const KeepAlive kFiveMinutes{false, minutes(5)};

}  // namespace

TEST(Residency, ColdLoadTakesLoadTimeThenIsReady) {
  ManualClock clock;
  Residency r(res(24, 64), clock);
  auto a = model("a:7b", 4);
  Acquire first = r.acquire(a);
  EXPECT_EQ(first.kind, Acquire::Kind::loading);
  EXPECT_TRUE(first.cold_load);
  EXPECT_EQ(first.ready_at, clock.now() + seconds(2));
  // A second request during the load waits for the same load, it does not start another.
  Acquire second = r.acquire(a);
  EXPECT_EQ(second.kind, Acquire::Kind::loading);
  EXPECT_FALSE(second.cold_load);
  EXPECT_EQ(r.loads(), 1u);
  clock.advance(seconds(2));
  EXPECT_EQ(r.acquire(a).kind, Acquire::Kind::ready);
  EXPECT_EQ(r.find("a:7b")->active, 3);
}

TEST(Residency, FitsInVramFullyOtherwisePartiallyOrOnCpu) {
  ManualClock clock;
  Residency gpu(res(8, 64), clock);
  gpu.acquire(model("small:1b", 4));
  EXPECT_EQ(gpu.find("small:1b")->size_vram, 4 * GB);
  gpu.acquire(model("big:14b", 10));  // 4 GB VRAM left, the small one is busy
  EXPECT_EQ(gpu.find("big:14b")->size_vram, 4 * GB);
  EXPECT_EQ(gpu.find("big:14b")->size, 10 * GB);

  Residency cpu(res(0, 64), clock);
  cpu.acquire(model("a:7b", 4));
  EXPECT_EQ(cpu.find("a:7b")->size_vram, 0u);
  EXPECT_EQ(cpu.used_ram(), 4 * GB);
}

TEST(Residency, EvictsLeastRecentlyUsedIdleModelToFitInVram) {
  ManualClock clock;
  Residency r(res(10, 64, 0, seconds(0)), clock);
  r.acquire(model("a:1b", 4));
  r.release("a:1b", kFiveMinutes);
  clock.advance(seconds(1));
  r.acquire(model("b:1b", 4));
  r.release("b:1b", kFiveMinutes);
  clock.advance(seconds(1));
  Acquire c = r.acquire(model("c:1b", 4));
  ASSERT_EQ(c.evicted.size(), 1u);
  EXPECT_EQ(c.evicted[0], "a:1b");  // the older one goes
  EXPECT_EQ(r.find("a:1b"), nullptr);
  EXPECT_NE(r.find("b:1b"), nullptr);
  EXPECT_EQ(r.find("c:1b")->size_vram, 4 * GB);
  EXPECT_EQ(r.evictions(), 1u);
}

TEST(Residency, ModelTooBigForVramDisplacesIdleModelsBeforeOffloading) {
  ManualClock clock;
  Residency r(res(6, 64, 0, seconds(0)), clock);
  r.acquire(model("a:1b", 3));
  r.release("a:1b", kFiveMinutes);
  Acquire big = r.acquire(model("big:14b", 10));
  EXPECT_EQ(big.evicted, std::vector<std::string>{"a:1b"});
  EXPECT_EQ(r.find("big:14b")->size_vram, 6 * GB);
}

TEST(Residency, CpuNodeEvictsOnlyForRam) {
  ManualClock clock;
  Residency r(res(0, 10, 0, seconds(0)), clock);
  r.acquire(model("a:1b", 4));
  r.release("a:1b", kFiveMinutes);
  EXPECT_TRUE(r.acquire(model("b:1b", 4)).evicted.empty());
  r.release("b:1b", kFiveMinutes);
  EXPECT_EQ(r.acquire(model("c:1b", 4)).evicted, std::vector<std::string>{"a:1b"});
}

TEST(Residency, BusyModelsAreNeverEvicted) {
  ManualClock clock;
  Residency r(res(10, 64, 0, seconds(0)), clock);
  r.acquire(model("a:1b", 8));  // stays busy
  Acquire b = r.acquire(model("b:1b", 8));
  EXPECT_TRUE(b.evicted.empty());
  EXPECT_NE(r.find("a:1b"), nullptr);
  EXPECT_EQ(r.find("b:1b")->size_vram, 2 * GB);  // partial offload instead
}

TEST(Residency, MaxLoadedMakesRequestsWaitForABusyModel) {
  ManualClock clock;
  Residency r(res(24, 64, 1, seconds(0)), clock);
  r.acquire(model("a:1b", 2));
  EXPECT_EQ(r.acquire(model("b:1b", 2)).kind, Acquire::Kind::must_wait);
  EXPECT_EQ(r.find("b:1b"), nullptr);
  r.release("a:1b", kFiveMinutes);
  Acquire b = r.acquire(model("b:1b", 2));
  EXPECT_EQ(b.kind, Acquire::Kind::ready);
  EXPECT_EQ(b.evicted, std::vector<std::string>{"a:1b"});
}

TEST(Residency, ModelLargerThanAllMemoryIsAnError) {
  ManualClock clock;
  Residency r(res(4, 8), clock);
  Acquire a = r.acquire(model("huge:70b", 40));
  EXPECT_EQ(a.kind, Acquire::Kind::no_memory);
  EXPECT_NE(a.error.find("requires more system memory"), std::string::npos);
  EXPECT_TRUE(r.models().empty());
}

TEST(Residency, KeepAliveExpiry) {
  ManualClock clock;
  Residency r(res(24, 64, 0, seconds(0)), clock);
  r.acquire(model("a:1b", 2));
  r.release("a:1b", kFiveMinutes);
  clock.advance(minutes(4));
  r.expire();
  EXPECT_NE(r.find("a:1b"), nullptr);
  clock.advance(minutes(2));
  r.expire();
  EXPECT_EQ(r.find("a:1b"), nullptr);
}

TEST(Residency, UseRenewsKeepAliveAndForeverNeverExpires) {
  ManualClock clock;
  Residency r(res(24, 64, 0, seconds(0)), clock);
  r.acquire(model("a:1b", 2));
  r.release("a:1b", kFiveMinutes);
  clock.advance(minutes(4));
  r.acquire(model("a:1b", 2));
  r.release("a:1b", KeepAlive{true, {}});
  clock.advance(hours(1000));
  r.expire();
  EXPECT_NE(r.find("a:1b"), nullptr);
}

TEST(Residency, KeepAliveZeroUnloadsAtRelease) {
  ManualClock clock;
  Residency r(res(24, 64, 0, seconds(0)), clock);
  r.acquire(model("a:1b", 2));
  r.release("a:1b", KeepAlive{false, seconds(0)});
  EXPECT_EQ(r.find("a:1b"), nullptr);
}

TEST(Residency, UnloadWhileBusyTakesEffectWhenTheLastUserLeaves) {
  ManualClock clock;
  Residency r(res(24, 64, 0, seconds(0)), clock);
  r.acquire(model("a:1b", 2));
  EXPECT_TRUE(r.unload("a:1b"));
  EXPECT_NE(r.find("a:1b"), nullptr);  // still generating
  r.release("a:1b", kFiveMinutes);
  EXPECT_EQ(r.find("a:1b"), nullptr);
  EXPECT_FALSE(r.unload("a:1b"));
}

TEST(Catalog, NamesNormaliseToLatestTag) {
  EXPECT_EQ(normalize_model_name("llama3"), "llama3:latest");
  EXPECT_EQ(normalize_model_name("llama3:8b"), "llama3:8b");
  EXPECT_EQ(normalize_model_name("host:5000/ns/llama3"), "host:5000/ns/llama3:latest");
  Catalog c;
  c.put(make_model_spec("llama3", 4, WallTime{}));
  EXPECT_NE(c.find("llama3:latest"), nullptr);
  EXPECT_NE(c.find("llama3"), nullptr);
  EXPECT_TRUE(c.remove("llama3"));
  EXPECT_EQ(c.find("llama3"), nullptr);
}

TEST(Catalog, SizeEstimatedFromParameterTag) {
  auto spec = make_model_spec("qwen2.5-coder:14b", 0, WallTime{});
  EXPECT_EQ(spec.size, static_cast<uint64_t>(14 * 0.6 * 1e9));
  EXPECT_EQ(spec.parameter_size, "14.0B");
  EXPECT_EQ(spec.family, "qwen");
  EXPECT_EQ(spec.digest.size(), 64u);
  EXPECT_TRUE(make_model_spec("nomic-embed-text", 0.3, WallTime{}).embedding_only);
  EXPECT_FALSE(valid_model_name("bad name"));
  EXPECT_TRUE(valid_model_name("library/llama3:8b"));
}
