// The cost of one routing decision (filters + scorers + ranking + reason) on fleets of
// 10, 100 and 1000 nodes, and of publishing a snapshot after one node changed in a fleet of
// 1000 (issue #17). Run by `make bench`; not a test.
#include "routing/admission_queue.hpp"
#include "routing/route.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

using namespace hydra;

namespace {

// A heterogeneous fleet: every node has the requested model on disk and 7 others; a third
// hold it in memory; VRAM, slots and load vary.
std::vector<cluster::NodeView> fleet_nodes(std::size_t nodes) {
  std::vector<cluster::NodeView> out;
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
    out.push_back(std::move(n));
  }
  return out;
}

cluster::Snapshot fleet(std::size_t nodes) {
  cluster::Snapshot s;
  for (auto& n : fleet_nodes(nodes)) s.nodes.push_back(std::move(n));
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

// Publishing (issue #17): Cluster::publish_now() is next_snapshot() over the cluster's nodes
// and their changed flags. Each iteration changes one node (a different one each time, as a
// failed request or a probe would), publishes, and drops the snapshot before, as the cluster
// does when no request holds it any more.
void publish_loop(benchmark::State& state, bool every_node) {
  const auto size = static_cast<std::size_t>(state.range(0));
  auto nodes = fleet_nodes(size);
  std::vector<bool> changed(size, true);
  uint64_t generation = 1;
  auto current = cluster::next_snapshot(nullptr, nodes, changed, {}, generation);
  std::fill(changed.begin(), changed.end(), every_node);
  std::size_t i = 0;
  for (auto _ : state) {
    i = (i + 1) % size;
    nodes[i].consecutive_failures ^= 1;
    changed[i] = true;
    current = cluster::next_snapshot(current.get(), nodes, changed, {}, ++generation);
    changed[i] = every_node;
  }
  benchmark::DoNotOptimize(current);
}

// Copy-on-write per node: the changed node is copied, every other one shared; the index is the
// one before with that node's entries replaced.
void BM_PublishOneNodeChanged(benchmark::State& state) { publish_loop(state, false); }
BENCHMARK(BM_PublishOneNodeChanged)->Arg(1000)->Unit(benchmark::kMicrosecond);

// As before #17: every node copied into the new snapshot (and the old copies freed), the index
// built anew (also what a publish does when more than 1 node in 50 changed).
void BM_PublishFullRebuild(benchmark::State& state) { publish_loop(state, true); }
BENCHMARK(BM_PublishFullRebuild)->Arg(1000)->Unit(benchmark::kMicrosecond);

// The model -> holders index built anew, alone (1000 nodes x 8 models).
void BM_PublishIndexOnly(benchmark::State& state) {
  auto snapshot = fleet(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    snapshot.build_index();
    benchmark::DoNotOptimize(snapshot.holders);
  }
}
BENCHMARK(BM_PublishIndexOnly)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
