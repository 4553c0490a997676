// The cost of one routing decision (filters + scorers + ranking + reason) on fleets of
// 10, 100 and 1000 nodes. Run by `make bench`; not a test.
#include "routing/admission_queue.hpp"
#include "routing/route.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

using namespace hydra;

namespace {

// A heterogeneous fleet: every node has the requested model on disk and 7 others; a third
// hold it in memory; VRAM, slots and load vary.
cluster::Snapshot fleet(std::size_t nodes) {
  cluster::Snapshot s;
  for (std::size_t i = 0; i < nodes; ++i) {
    cluster::NodeView n;
    n.index = i;
    n.id = fmt::format("10.0.{}.{}:11434", i / 250, i % 250);
    n.health = i % 17 == 0 ? cluster::Health::suspect : cluster::Health::healthy;
    n.slots = 1 + static_cast<int>(i % 4);
    for (int m = 0; m < 8; ++m) n.models.push_back({fmt::format("model-{}:7b", m), 4'000'000'000ull, {}});
    if (i % 3 == 0) n.resident.push_back({"model-3:7b", 4'000'000'000ull, 4'000'000'000ull, {}});
    n.resources.known = true;
    n.resources.source = cluster::Resources::Source::reported;
    n.resources.vram_total = (8 + i % 3 * 8) * 1'000'000'000ull;
    n.resources.vram_free = (i % 5) * 2'000'000'000ull;
    n.live->in_flight = static_cast<int>(i % 3);
    n.live->ttft_ms = 100.0 + static_cast<double>(i % 7) * 40;
    s.nodes.push_back(std::move(n));
  }
  s.build_index();  // as Cluster::publish() does once per snapshot
  return s;
}

void BM_RouteDecision(benchmark::State& state) {
  auto snapshot = fleet(static_cast<std::size_t>(state.range(0)));
  routing::SystemRandom random;
  routing::RouteRequest request;
  request.model = "model-3:7b";
  for (auto _ : state) {
    auto decision = routing::route(snapshot, request, random);
    benchmark::DoNotOptimize(decision);
  }
}
BENCHMARK(BM_RouteDecision)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_PickFreeCandidate(benchmark::State& state) {
  auto snapshot = fleet(static_cast<std::size_t>(state.range(0)));
  routing::SystemRandom random;
  routing::RouteRequest request;
  request.model = "model-3:7b";
  auto decision = routing::route(snapshot, request, random);
  for (auto _ : state) benchmark::DoNotOptimize(routing::pick_free_candidate(snapshot, decision, 0));
}
BENCHMARK(BM_PickFreeCandidate)->Arg(10)->Arg(1000)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
