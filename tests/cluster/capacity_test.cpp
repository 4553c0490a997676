// The capacity learner: a node's parallelism per model, from first-byte times. Pure: time is
// passed in, samples are made up.
#include "cluster/capacity.hpp"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::cluster;
using namespace std::chrono;

namespace {

const SteadyTime t0{hours(1)};

// One request's life at the node: sent at its place, first byte after `ttfb_ms`, then it ends.
struct Req {
  CapacityLearner& l;
  int place;
  int running = 0;
  explicit Req(CapacityLearner& learner) : l(learner), place(learner.sent()) {}
  void first(const std::string& model, double ttfb_ms, SteadyTime now) {
    running = l.first_byte();
    l.observe(model, place, running, ttfb_ms, now);
  }
  void end() { l.finished(running > 0); }
};

// A burst of `n` at a node that runs `parallel` at once: the first `parallel` start at once
// (first bytes after ~10 ms), each later one only when an earlier one ends (~2 s each).
void burst(CapacityLearner& l, const std::string& model, int n, int parallel, SteadyTime at) {
  std::vector<Req> reqs;
  reqs.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) reqs.emplace_back(l);
  for (int i = 0; i < n && i < parallel; ++i) reqs[static_cast<std::size_t>(i)].first(model, 10 + i, at);
  for (int i = parallel; i < n; ++i) {
    reqs[static_cast<std::size_t>(i - parallel)].end();  // one ends, the next queued one starts
    reqs[static_cast<std::size_t>(i)].first(model, 2000.0 * (1 + (i - parallel) / parallel), at);
  }
  for (int i = std::max(0, n - parallel); i < n; ++i) reqs[static_cast<std::size_t>(i)].end();
}

}  // namespace

TEST(CapacityLearner, UnseenModelsHaveThePriorMarkedDefault) {
  CapacityLearner l;
  auto e = l.slots("m:7b");
  EXPECT_EQ(e.slots, 4);
  EXPECT_EQ(e.source, SlotsSource::default_slots);
  EXPECT_STREQ(to_string(e.source), "default");
  EXPECT_EQ(l.load_ms("m:7b"), 0);
}

TEST(CapacityLearner, PlacesCountRequestsAtTheNodeAndEndTogether) {
  CapacityLearner l;
  EXPECT_EQ(l.sent(), 1);
  EXPECT_EQ(l.sent(), 2);
  EXPECT_EQ(l.first_byte(), 1);
  l.finished(true);
  l.finished(false);
  EXPECT_EQ(l.at_node(), 0);
  EXPECT_EQ(l.running(), 0);
  l.finished(true);  // never below zero
  EXPECT_EQ(l.at_node(), 0);
  EXPECT_EQ(l.running(), 0);
}

TEST(CapacityLearner, ABurstAtATwoSlotNodeTeachesTwo) {
  CapacityLearner l;
  burst(l, "m:7b", 4, 2, t0);
  auto e = l.slots("m:7b");
  EXPECT_EQ(e.slots, 2);
  EXPECT_EQ(e.source, SlotsSource::learned);
  const auto models = l.models();  // a copy: hold it while reading from it
  const auto& m = models.at("m:7b");
  EXPECT_EQ(m.queued, 2u);
  EXPECT_EQ(m.ceiling, 3);
  EXPECT_NEAR(m.baseline_ms, 10, 1.5);
  // Other models on the node are not judged by it.
  EXPECT_EQ(l.slots("other:7b").source, SlotsSource::default_slots);
}

TEST(CapacityLearner, ABurstAtAOneSlotNodeTeachesOne) {
  CapacityLearner l;
  burst(l, "m:7b", 4, 1, t0);
  EXPECT_EQ(l.slots("m:7b").slots, 1);
}

TEST(CapacityLearner, RequestsReachingTheNodeOutOfOrderDoNotTeachTooFew) {
  // Sent as 1, 2, 3; the node (2 slots) started 1 and 3, and 2 waited for 1 to end.
  CapacityLearner l;
  Req a(l), b(l), c(l);
  a.first("m", 10, t0);
  c.first("m", 12, t0);  // place 3, flat: two were streaming at once
  a.end();
  b.first("m", 2000, t0);  // place 2, queued
  EXPECT_EQ(l.slots("m").slots, 2);
  b.end();
  c.end();
}

TEST(CapacityLearner, FlatFirstBytesAtTheEstimateRaiseItButNotIntoARecentCeiling) {
  CapacitySettings s;
  s.raise_after = 3;
  s.relearn_after = minutes(5);
  CapacityLearner l(s);
  burst(l, "m", 4, 2, t0);
  ASSERT_EQ(l.slots("m").slots, 2);
  // Two at a time, flat, many times: 3 queued a moment ago, so 2 it stays.
  for (int i = 0; i < 10; ++i) burst(l, "m", 2, 2, t0 + seconds(i));
  EXPECT_EQ(l.slots("m").slots, 2);
  // Once the ceiling is forgotten, flat samples at 2 try 3 ...
  const auto later = t0 + minutes(6);
  for (int i = 0; i < 3; ++i) burst(l, "m", 2, 2, later);
  EXPECT_EQ(l.slots("m").slots, 3);
  // ... and a third that queues again brings it back to 2.
  burst(l, "m", 3, 2, later + seconds(1));
  EXPECT_EQ(l.slots("m").slots, 2);
  EXPECT_EQ(l.models().at("m").ceiling, 3);
}

TEST(CapacityLearner, ANodeThatRunsMoreThanThePriorIsRaisedStepByStepWithinTheMax) {
  CapacitySettings s;
  s.raise_after = 2;
  s.max = 6;
  CapacityLearner l(s);
  for (int round = 0; round < 20; ++round) {
    const int n = l.slots("m").slots;  // as many as the estimate allows, all flat (it runs 8)
    burst(l, "m", n, 8, t0 + seconds(round));
  }
  EXPECT_EQ(l.slots("m").slots, 6);
  EXPECT_EQ(l.slots("m").source, SlotsSource::learned);
}

TEST(CapacityLearner, StreamingMoreAtOnceThanBelievedIsProof) {
  CapacityLearner l;
  burst(l, "m", 4, 2, t0);
  ASSERT_EQ(l.slots("m").slots, 2);
  burst(l, "m", 5, 5, t0 + minutes(10));  // e.g. failover attempts beyond the estimate, all flat
  EXPECT_EQ(l.slots("m").slots, 5);
}

TEST(CapacityLearner, ASlowRequestAloneChangesNothingButTheBaseline) {
  CapacityLearner l;
  burst(l, "m", 1, 1, t0);
  const double before = l.models().at("m").baseline_ms;
  Req r(l);
  r.first("m", 5000, t0);  // a long prompt, alone at the node
  r.end();
  EXPECT_EQ(l.slots("m").slots, 4);
  EXPECT_EQ(l.slots("m").source, SlotsSource::default_slots);
  EXPECT_GT(l.models().at("m").baseline_ms, before);
  EXPECT_EQ(l.models().at("m").queued, 0u);
}

TEST(CapacityLearner, NeverBelowOneNorAboveTheMax) {
  CapacitySettings s;
  s.max = 3;
  s.prior = 8;
  CapacityLearner l(s);
  EXPECT_EQ(l.slots("m").slots, 3);  // the prior is bounded too
  burst(l, "m", 2, 1, t0);
  EXPECT_EQ(l.slots("m").slots, 1);
  burst(l, "m", 3, 1, t0 + seconds(1));
  EXPECT_EQ(l.slots("m").slots, 1);
}

TEST(CapacityLearner, LoadTimesAreLearnedAndAWarmReplyIsNoLoad) {
  CapacityLearner l;
  l.observe_load("m", 5);  // no load is that quick: the model was loaded already
  EXPECT_EQ(l.load_ms("m"), 0);
  l.observe_load("m", 3000);  // nothing known: the whole first byte was the load
  EXPECT_NEAR(l.load_ms("m"), 3000, 1e-9);
  burst(l, "m", 1, 1, t0);   // baseline ~10 ms
  l.observe_load("m", 12);   // the snapshot said cold, but it was loaded already
  EXPECT_NEAR(l.load_ms("m"), 3000, 1e-9);
  l.observe_load("m", 2010);
  EXPECT_NEAR(l.load_ms("m"), 3000 * 0.7 + 2000 * 0.3, 1.0);
  EXPECT_EQ(l.slots("m").source, SlotsSource::default_slots);  // loads say nothing of parallelism
}

TEST(CapacityLearner, TheMostSeenStreamingAtOnceIsForgottenWhenNotSeenAgain) {
  CapacitySettings s;
  s.relearn_after = minutes(5);
  CapacityLearner l(s);
  burst(l, "m", 4, 2, t0);  // two streamed at once
  ASSERT_EQ(l.models().at("m").most_running, 2);
  for (int i = 1; i <= 10; ++i) burst(l, "m", 1, 1, t0 + minutes(i));  // one at a time since
  EXPECT_EQ(l.models().at("m").most_running, 1);
  // The node now runs one (restarted with OLLAMA_NUM_PARALLEL=1): two queue, one is learned.
  burst(l, "m", 2, 1, t0 + minutes(11));
  EXPECT_EQ(l.slots("m").slots, 1);
}

TEST(CapacityLearner, OneMoreIsTriedOnlyOnceThatManyWereSeenStreamingAtOnce) {
  CapacitySettings s;
  s.raise_after = 2;
  CapacityLearner l(s);
  for (int round = 0; round < 10; ++round) burst(l, "m", 4, 4, t0 + seconds(round));  // 4 stream at once
  ASSERT_EQ(l.slots("m").slots, 5);  // so 5 is tried
  // The fifth always waits inside, but only a moment (others are about to end): it looks flat,
  // yet five never stream at once, so 6 is never tried.
  for (int round = 0; round < 10; ++round) {
    std::vector<Req> reqs;
    for (int i = 0; i < 5; ++i) reqs.emplace_back(l);
    for (int i = 0; i < 4; ++i) reqs[static_cast<std::size_t>(i)].first("m", 10, t0 + minutes(1));
    reqs[0].end();
    reqs[4].first("m", 40, t0 + minutes(1));  // waited 30 ms: below the queued threshold
    for (int i = 1; i < 5; ++i) reqs[static_cast<std::size_t>(i)].end();
  }
  EXPECT_EQ(l.slots("m").slots, 5);
}
