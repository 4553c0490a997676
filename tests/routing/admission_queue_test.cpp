#include "routing/admission_queue.hpp"
#include "routing/fixtures.hpp"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::routing;
using namespace hydra::routing::test;
using namespace std::chrono;

namespace {
Waiter waiter(uint64_t id, int priority, SteadyTime at, std::vector<std::size_t> nodes = {0}) {
  return Waiter{id, priority, at, std::move(nodes)};
}
const SteadyTime t0{hours(1)};
}  // namespace

TEST(AdmissionQueue, HigherPriorityFirstThenOlder) {
  AdmissionQueue q({.max_waiting = 10, .max_wait = seconds(60), .aging_step = seconds(10)});
  q.push(waiter(1, 5, t0));
  q.push(waiter(2, 9, t0 + seconds(1)));
  q.push(waiter(3, 9, t0 + seconds(2)));
  EXPECT_EQ(q.pick_for(0, t0 + seconds(2)), 2u);
  q.remove(2);
  EXPECT_EQ(q.pick_for(0, t0 + seconds(2)), 3u);
  q.remove(3);
  EXPECT_EQ(q.pick_for(0, t0 + seconds(2)), 1u);
}

TEST(AdmissionQueue, AgingLetsLowPriorityOvertakeEventually) {
  AdmissionQueue q({.max_waiting = 10, .max_wait = seconds(600), .aging_step = seconds(10)});
  q.push(waiter(1, 1, t0));
  // A fresh priority-9 request arriving 70 s later still wins (1 + 7 < 9) ...
  q.push(waiter(2, 9, t0 + seconds(70)));
  EXPECT_EQ(q.pick_for(0, t0 + seconds(70)), 2u);
  q.remove(2);
  // ... but after 90 s of waiting the old one ties a new 10 and, being older, goes first.
  q.push(waiter(3, 10, t0 + seconds(90)));
  EXPECT_EQ(q.pick_for(0, t0 + seconds(90)), 1u);
  EXPECT_DOUBLE_EQ(q.effective_priority(waiter(9, 1, t0), t0 + seconds(90)), 10.0);
}

TEST(AdmissionQueue, OnlyWaitersThatCanUseTheFreedNode) {
  AdmissionQueue q({});
  q.push(waiter(1, 10, t0, {1}));
  q.push(waiter(2, 1, t0, {0, 2}));
  EXPECT_EQ(q.pick_for(0, t0), 2u);
  EXPECT_EQ(q.pick_for(1, t0), 1u);
  EXPECT_FALSE(q.pick_for(3, t0));
  EXPECT_TRUE(q.anyone_waiting_for({2, 5}));
  EXPECT_FALSE(q.anyone_waiting_for({5}));
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
