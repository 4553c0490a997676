#include "routing/admission_queue.hpp"
#include "routing/fixtures.hpp"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::routing;
using namespace hydra::routing::test;
using namespace std::chrono;

namespace {
Waiter waiter(uint64_t id, int priority, SteadyTime at, std::vector<std::size_t> warm = {0},
              std::vector<std::size_t> cold = {}, Nanos cold_after = seconds(3)) {
  Waiter w;
  w.id = id;
  w.priority = priority;
  w.enqueued = at;
  w.warm = std::move(warm);
  w.cold = std::move(cold);
  w.cold_after = w.warm.empty() ? Nanos{0} : cold_after;
  return w;
}
const CanLoad anywhere = [](const Waiter&, std::size_t) { return true; };
const SteadyTime t0{hours(1)};
}  // namespace

TEST(AdmissionQueue, HigherPriorityFirstThenOlder) {
  AdmissionQueue q({.max_waiting = 10, .max_wait = seconds(60), .aging_step = seconds(10)});
  q.push(waiter(1, 5, t0));
  q.push(waiter(2, 9, t0 + seconds(1)));
  q.push(waiter(3, 9, t0 + seconds(2)));
  EXPECT_EQ(q.pick_for(0, t0 + seconds(2), anywhere), 2u);
  q.remove(2);
  EXPECT_EQ(q.pick_for(0, t0 + seconds(2), anywhere), 3u);
  q.remove(3);
  EXPECT_EQ(q.pick_for(0, t0 + seconds(2), anywhere), 1u);
}

TEST(AdmissionQueue, AgingLetsLowPriorityOvertakeEventually) {
  AdmissionQueue q({.max_waiting = 10, .max_wait = seconds(600), .aging_step = seconds(10)});
  q.push(waiter(1, 1, t0));
  // A fresh priority-9 request arriving 70 s later still wins (1 + 7 < 9) ...
  q.push(waiter(2, 9, t0 + seconds(70)));
  EXPECT_EQ(q.pick_for(0, t0 + seconds(70), anywhere), 2u);
  q.remove(2);
  // ... but after 90 s of waiting the old one ties a new 10 and, being older, goes first.
  q.push(waiter(3, 10, t0 + seconds(90)));
  EXPECT_EQ(q.pick_for(0, t0 + seconds(90), anywhere), 1u);
  EXPECT_DOUBLE_EQ(q.effective_priority(waiter(9, 1, t0), t0 + seconds(90)), 10.0);
}

TEST(AdmissionQueue, OnlyWaitersThatCanUseTheFreedNode) {
  AdmissionQueue q({});
  q.push(waiter(1, 10, t0, {1}));
  q.push(waiter(2, 1, t0, {0, 2}));
  EXPECT_EQ(q.pick_for(0, t0, anywhere), 2u);
  EXPECT_EQ(q.pick_for(1, t0, anywhere), 1u);
  EXPECT_FALSE(q.pick_for(3, t0, anywhere));
  EXPECT_EQ(q.warm_waiting(2), 1u);
  EXPECT_EQ(q.warm_waiting(5), 0u);
}

TEST(AdmissionQueue, WarmWaitersGetTheSlotBeforeColdOnes) {
  AdmissionQueue q({});
  // 1 would have to load its model on node 0 (warm on node 1); 2 holds its model warm on 0.
  q.push(waiter(1, 10, t0, {1}, {0}, seconds(3)));
  q.push(waiter(2, 1, t0 + seconds(5), {0}));
  EXPECT_EQ(q.pick_for(0, t0 + seconds(6), anywhere), 2u);
  q.remove(2);
  EXPECT_EQ(q.pick_for(0, t0 + seconds(6), anywhere), 1u);
}

TEST(AdmissionQueue, ColdNodeOnlyAfterWaitingALoadAndOnlyWhereItLoadsWithoutEviction) {
  AdmissionQueue q({});
  q.push(waiter(1, 5, t0, {1}, {0}, seconds(3)));
  EXPECT_FALSE(q.pick_for(0, t0 + seconds(2), anywhere));  // waiting for the warm copy is cheaper so far
  EXPECT_EQ(q.pick_for(0, t0 + seconds(3), anywhere), 1u);
  const CanLoad nowhere = [](const Waiter&, std::size_t) { return false; };
  EXPECT_FALSE(q.pick_for(0, t0 + seconds(30), nowhere));  // it would evict a model in use
  EXPECT_EQ(q.pick_for(1, t0 + seconds(30), nowhere), 1u);  // its warm node always will do
}

TEST(AdmissionQueue, NoWarmCopyAnywhereMeansAnyCandidateAtOnce) {
  AdmissionQueue q({});
  q.push(waiter(1, 5, t0, {}, {0, 1}));
  EXPECT_EQ(q.pick_for(1, t0, anywhere), 1u);
  EXPECT_FALSE(q.pick_for(2, t0, anywhere));
}

TEST(AdmissionQueue, WaiterFromADecision) {
  auto s = make_snapshot({{.models = {{"m:7b", 4 * GB}}, .resident = {{"m:7b", 4 * GB}}, .in_flight = 4, .vram_gb = 24},
                          {.models = {{"m:7b", 4 * GB}}, .vram_gb = 24}});
  ScriptedRandom r({0});
  RouteRequest req;
  req.model = "m:7b";
  Waiter w = make_waiter(route(s, req, r), "m:7b", 7, t0);
  EXPECT_EQ(w.warm, std::vector<std::size_t>{0});
  EXPECT_EQ(w.cold, std::vector<std::size_t>{1});
  EXPECT_EQ(w.model_size, 4 * GB);
  EXPECT_EQ(w.priority, 7);
  EXPECT_NEAR(duration<double>(w.cold_after).count(), load_seconds(4 * GB), 1e-6);
}

TEST(AdmissionQueue, BoundedAndRemovable) {
  AdmissionQueue q({.max_waiting = 2});
  EXPECT_TRUE(q.push(waiter(1, 5, t0)));
  EXPECT_TRUE(q.push(waiter(2, 5, t0)));
  EXPECT_FALSE(q.push(waiter(3, 5, t0)));
  EXPECT_TRUE(q.remove(1));
  EXPECT_FALSE(q.remove(1));
  EXPECT_EQ(q.size(), 1u);
}

namespace {
Decision decide(const cluster::Snapshot& s) {
  ScriptedRandom r({0});
  RouteRequest req;
  req.model = "m:7b";
  return route(s, req, r);
}
}  // namespace

TEST(PickFreeCandidate, FirstCandidateWithAFreeSlot) {
  auto s = make_snapshot({{.models = {{"m:7b", 4 * GB}}, .in_flight = 4}, {.models = {{"m:7b", 4 * GB}}, .in_flight = 1}});
  EXPECT_EQ(pick_free_candidate(s, decide(s), 0), 1u);
  s.nodes[1].live->in_flight = 4;
  EXPECT_FALSE(pick_free_candidate(s, decide(s), 0));
}

TEST(PickFreeCandidate, HotModelIsReplicatedOnlyWhenWaitingCostsMoreThanALoad) {
  // Node 0 holds the model and is full; node 1 is free but would need a cold load (~3 s for 4 GB).
  auto s = make_snapshot({{.models = {{"m:7b", 4 * GB}}, .resident = {{"m:7b", 4 * GB}}, .in_flight = 4, .vram_gb = 24},
                          {.models = {{"m:7b", 4 * GB}}, .vram_gb = 24}});
  s.nodes[0].live->duration_ms = 2000;  // requests take 2 s: waiting for a slot is cheaper
  EXPECT_FALSE(pick_free_candidate(s, decide(s), 0));
  s.nodes[0].live->duration_ms = 20000;  // 20 s each: load a second copy instead
  EXPECT_EQ(pick_free_candidate(s, decide(s), 0), 1u);
  s.nodes[0].live->duration_ms = 2000;
  EXPECT_EQ(pick_free_candidate(s, decide(s), 20), 1u);  // a long queue makes waiting dear too
}

TEST(PickFreeCandidate, NeverEvictsAModelInUseToReplicateAnother) {
  // Node 1 is busy with another model and has no VRAM free for this one: loading it there
  // would wait for that work and then evict its model.
  auto s = make_snapshot({{.models = {{"m:7b", 4 * GB}}, .resident = {{"m:7b", 4 * GB}}, .in_flight = 4, .vram_gb = 8},
                          {.models = {{"m:7b", 4 * GB}, {"o:7b", 6 * GB}}, .resident = {{"o:7b", 6 * GB}}, .in_flight = 1,
                           .vram_gb = 8, .vram_free_gb = 2}});
  s.nodes[0].live->duration_ms = 60000;  // waiting is very dear, still no eviction
  EXPECT_FALSE(pick_free_candidate(s, decide(s), 10));
  s.nodes[1].live->in_flight = 0;  // idle: its model may go
  EXPECT_EQ(pick_free_candidate(s, decide(s), 10), 1u);
}

TEST(PickFreeCandidate, ASlowerColdNodeMustAlsoMakeUpItsSlowness) {
  auto s = make_snapshot({{.models = {{"m:7b", 4 * GB}}, .resident = {{"m:7b", 4 * GB}}, .in_flight = 4, .vram_gb = 24},
                          {.models = {{"m:7b", 4 * GB}}, .vram_gb = 0}});
  s.nodes[0].live->duration_ms = 8000;   // 4 slots: 2 s of wait per request ahead
  s.nodes[1].live->duration_ms = 10000;  // CPU: 2 s slower than the GPU node, plus a 3 s load
  EXPECT_FALSE(pick_free_candidate(s, decide(s), 1));  // wait 4 s <= 3 + 2
  EXPECT_EQ(pick_free_candidate(s, decide(s), 4), 1u);  // wait 10 s > 5 s
}

TEST(PickFreeCandidate, TheNamedNodeGoesFirstEvenWhenCold) {
  auto s = make_snapshot({{.models = {{"m:7b", 4 * GB}}, .resident = {{"m:7b", 4 * GB}}, .vram_gb = 24},
                          {.models = {{"m:7b", 4 * GB}}, .vram_gb = 24}});
  ScriptedRandom r({0});
  RouteRequest req;
  req.model = "m:7b";
  req.node_id = "n1";
  auto d = route(s, req, r);
  ASSERT_TRUE(d.candidates.front().worth_waiting);  // the named node, though cold
  EXPECT_EQ(pick_free_candidate(s, d, 0), 1u);
  Waiter w = make_waiter(d, "m:7b", 5, t0);  // when it is full, it is worth waiting for
  EXPECT_EQ(w.warm, (std::vector<std::size_t>{1, 0}));
}

// --- capacity nobody configured: learned per node and model --------------------------------

TEST(PickFreeCandidate, AnUnconfiguredNodeIsFullAtItsLearnedSlotsNotAtThePrior) {
  // Node 0 holds the model, runs 2 at once (nobody said so) and has 2 in flight; node 1 has it
  // on disk and room for it.
  auto s = make_snapshot({{.models = {{"m:7b", 2 * GB}}, .resident = {{"m:7b", 2 * GB}}, .in_flight = 2,
                           .slots_configured = false, .vram_gb = 8},
                          {.models = {{"m:7b", 2 * GB}}, .slots_configured = false, .vram_gb = 24}});
  s.nodes[0].live->duration_ms = 3000;
  // Not learned yet: the prior (4) says there is room, so the warm node takes it.
  std::string why;
  EXPECT_EQ(pick_free_candidate(s, decide(s), 0, &why), 0u);
  EXPECT_TRUE(why.empty());
  EXPECT_NE(decide(s).reason.find("2/4 slots busy (default)"), std::string::npos) << decide(s).reason;
  teach_slots(s.nodes[0], "m:7b", 2);
  auto d = decide(s);
  EXPECT_NE(d.reason.find("2/2 slots busy (learned)"), std::string::npos) << d.reason;
  // Full: one waiting ahead makes the wait 2 x 3 s / 2 slots = 3 s, more than a 2 GB load (2 s).
  EXPECT_EQ(pick_free_candidate(s, d, 1, &why), 1u);
  EXPECT_NE(why.find("n0 is full (2/2 slots busy (learned))"), std::string::npos) << why;
  EXPECT_NE(why.find("loading the model on n1"), std::string::npos) << why;
  // A load seen to take 10 s there makes waiting the better deal.
  s.nodes[1].live->capacity.observe_load("m:7b", 10000);
  EXPECT_NEAR(expected_load_seconds(s.nodes[1], "m:7b", 2 * GB), 10.0, 1e-9);
  EXPECT_FALSE(pick_free_candidate(s, decide(s), 1));
  Waiter w = make_waiter(decide(s), "m:7b", 5, t0, &s);  // and a waiter gives up on it only after 10 s
  EXPECT_NEAR(duration<double>(w.cold_after).count(), 10.0, 1e-6);
}

TEST(PickFreeCandidate, ConfiguredSlotsWinOverWhatWasLearned) {
  auto s = make_snapshot({{.models = {{"m:7b", 2 * GB}}, .resident = {{"m:7b", 2 * GB}}, .in_flight = 2, .slots = 3,
                           .vram_gb = 8},
                          {.models = {{"m:7b", 2 * GB}}, .vram_gb = 24}});
  teach_slots(s.nodes[0], "m:7b", 1);
  EXPECT_EQ(cluster::slots_for(s.nodes[0], "m:7b").slots, 3);
  EXPECT_EQ(cluster::slots_for(s.nodes[0], "m:7b").source, cluster::SlotsSource::configured);
  EXPECT_EQ(pick_free_candidate(s, decide(s), 0), 0u);
  EXPECT_NE(decide(s).reason.find("2/3 slots busy (configured)"), std::string::npos);
}

TEST(PickFreeCandidate, LearnedSlotsArePerModel) {
  auto s = make_snapshot({{.models = {{"m:7b", 2 * GB}, {"o:7b", 2 * GB}}, .in_flight = 2, .slots_configured = false}});
  teach_slots(s.nodes[0], "o:7b", 2);
  EXPECT_EQ(cluster::slots_for(s.nodes[0], "o:7b").slots, 2);
  EXPECT_EQ(cluster::slots_for(s.nodes[0], "m:7b").slots, 4);
  EXPECT_EQ(cluster::node_slots(s.nodes[0]).slots, 2);  // /nodes: what was learned, when anything was
  EXPECT_EQ(cluster::node_slots(s.nodes[0]).source, cluster::SlotsSource::learned);
  EXPECT_EQ(pick_free_candidate(s, decide(s), 0), 0u);  // m:7b: 2 of 4
}
