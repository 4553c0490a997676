// A worker thread records into its own tally (telemetry/tally.hpp) and the control thread folds
// the tallies in: what the views show must be what one thread recording everything would show.
#include "telemetry/telemetry.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <sstream>
#include <string>

using namespace hydra::telemetry;
using namespace std::chrono;

namespace {

// Request i of a made-up day: its endpoint, node, outcome and timings vary with i.
RequestOutcome outcome_of(int i, std::string& node) {
  node = "10.0.0." + std::to_string(i % 3) + ":11434";
  RequestOutcome r;
  r.endpoint = i % 2 ? "/api/chat" : "/v1/chat/completions";
  r.model = i % 5 ? "llama3.2:3b" : "qwen2.5:7b";
  r.node = i % 7 ? std::string_view(node) : std::string_view();
  r.outcome = i % 7 ? "served" : "failed";
  r.ttft_s = i % 7 ? 0.001 * (i % 40) : -1;
  r.total_s = 0.002 * (i % 90);
  r.tokens = static_cast<uint64_t>(i % 13);
  r.attempts = 1 + i % 4 / 3;
  r.queued = i % 6 == 0;
  r.queue_wait_s = 0.01 * (i % 11);
  return r;
}

void record(Recorder to, int i, Traffic::Time at) {
  std::string node;
  const RequestOutcome r = outcome_of(i, node);
  to.metrics().request(r);
  to.metrics().http_request(r.endpoint, i % 7 ? 200 : 502);
  if (i % 10 == 0) to.metrics().continuation(i % 20 ? "resumed" : "skipped");
  if (i % 4 == 0) to.metrics().prefix(static_cast<uint64_t>(i % 3) * 100);
  to.requests().record(r.endpoint, i % 7 ? 200 : 502, microseconds(100 + i));
  to.traffic().record(at, r.ttft_s * 1000, r.total_s * 1000, r.tokens, r.node, r.outcome != "served");
  auto event = std::make_shared<RoutingEvent>();
  event->endpoint = r.endpoint;
  event->node_id = std::string(r.node);
  event->outcome = r.outcome;
  event->attempts = r.attempts;
  event->queued = r.queued;
  RequestRecord rec;
  rec.endpoint = r.endpoint;
  rec.node = std::string(r.node);
  rec.outcome = r.outcome;
  rec.routing = to.routed(std::move(event));
  to.finished(std::move(rec));
}

}  // namespace

TEST(Tally, FoldingWorkersTalliesShowsWhatOneThreadRecordingAllWouldShow) {
  Telemetry one, many;
  many.tallies.resize(3);
  many.tallies[1] = std::make_unique<Tally>();
  many.tallies[2] = std::make_unique<Tally>();
  const Traffic::Time start{hours(5)};
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    const auto at = start + milliseconds(4) * i;  // 12 s: more than the window's 10
    record(Recorder(one, nullptr), i, at);
    // Thread 0 records in place; workers 1 and 2 into their tallies, handed over now and then
    // (the logs more often than the counters), as api::recorded and api::settle_workers do.
    const auto thread = static_cast<std::size_t>(i % 3);
    Tally* tally = thread ? many.tallies[thread].get() : nullptr;
    record(Recorder(many, tally), i, at);
    if (tally && (tally->logs_due() || i % 500 == 499)) {
      if (i % 500 == 499) {
        Tally part;
        std::swap(part, *tally);
        many.fold(part);
      } else {
        Tally::Logs logs = std::exchange(tally->logs, {});
        many.fold(logs);
      }
    }
  }
  for (std::size_t t = 1; t < 3; ++t) many.fold(*many.tallies[t]);

  const GaugeSample gauges;
  // Line by line; a histogram's _sum (durations added in another order) to the last bits or so.
  std::istringstream mine(many.metrics.render(gauges)), theirs(one.metrics.render(gauges));
  std::string a_line, b_line;
  int lines = 0;
  while (std::getline(theirs, b_line) && lines < 10000) {
    ++lines;
    ASSERT_TRUE(std::getline(mine, a_line)) << b_line;
    const auto sum = b_line.find("_sum");
    if (sum == std::string::npos || b_line[0] == '#') {
      EXPECT_EQ(a_line, b_line);
      continue;
    }
    const auto space = b_line.rfind(' ');
    ASSERT_EQ(a_line.substr(0, space), b_line.substr(0, space));
    EXPECT_NEAR(std::stod(a_line.substr(space)), std::stod(b_line.substr(space)), 1e-9) << b_line;
  }
  EXPECT_GT(lines, 50);
  EXPECT_FALSE(std::getline(mine, a_line)) << a_line;
  // Sums of durations added in another order: equal to the last bits or so.
  const auto a = many.requests.to_json(), b = one.requests.to_json();
  EXPECT_EQ(a.at("total"), b.at("total"));
  for (const auto& [route, entry] : b.at("by_endpoint").as_object()) {
    const auto& mine = a.at("by_endpoint").at(route).as_object();
    EXPECT_EQ(mine.at("by_status"), entry.at("by_status")) << route;
    EXPECT_NEAR(mine.at("mean_ms").as_double(), entry.at("mean_ms").as_double(), 1e-9) << route;
  }
  const auto end = start + milliseconds(4) * n;
  EXPECT_EQ(boost::json::serialize(many.traffic.tick(end, {})), boost::json::serialize(one.traffic.tick(end, {})));
  EXPECT_EQ(many.routing.totals().decisions, static_cast<uint64_t>(n));
  EXPECT_EQ(many.routing.totals().failovers, one.routing.totals().failovers);
  EXPECT_EQ(many.routing.totals().by_node, one.routing.totals().by_node);
  // Every record kept, each pointing at its own decision (given its seq by the fold).
  RequestFilter all;
  all.limit = 5000;
  const auto records = many.request_log.recent(all);
  ASSERT_EQ(records.size(), one.request_log.recent(all).size());
  for (const RequestRecord* r : records) {
    ASSERT_TRUE(r->routing);
    EXPECT_GT(r->routing->seq, 0u);
    EXPECT_EQ(r->routing->node_id, r->node);
    EXPECT_EQ(r->routing->outcome, r->outcome);
  }
}

// Requests served one after another by different threads are listed in that order, though each
// worker's entries reach the logs in its own batch: by the number each got as it was recorded.
TEST(Tally, LogsKeepTheOrderRequestsWereRecordedInWhateverOrderTalliesAreFolded) {
  Telemetry t;
  t.tallies.resize(3);
  t.tallies[1] = std::make_unique<Tally>();
  t.tallies[2] = std::make_unique<Tally>();
  const Traffic::Time at{hours(1)};
  for (int i = 0; i < 12; ++i) {
    const auto thread = static_cast<std::size_t>(i % 3);
    record(Recorder(t, thread ? t.tallies[thread].get() : nullptr), i, at);
  }
  t.fold(*t.tallies[2]);  // the last worker first
  t.fold(*t.tallies[1]);
  RequestFilter all;
  all.limit = 100;
  const auto records = t.request_log.recent(all);  // newest first
  ASSERT_EQ(records.size(), 12u);
  for (std::size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i]->seq, 12 - i) << i;
  const auto decisions = t.routing.recent(100);  // oldest first
  ASSERT_EQ(decisions.size(), 12u);
  for (std::size_t i = 0; i < decisions.size(); ++i) EXPECT_EQ(decisions[i]->seq, i + 1) << i;
  EXPECT_EQ(t.routing.find(7), decisions[6]);
  // Asking for what came after a number seen: the rest, in order.
  all.after = 9;
  EXPECT_EQ(t.request_log.recent(all).size(), 3u);
  EXPECT_EQ(t.routing.recent(100, 9).size(), 3u);
  // The newest `limit`, in order.
  all.after = 0;
  all.limit = 4;
  const auto newest = t.request_log.recent(all);
  ASSERT_EQ(newest.size(), 4u);
  EXPECT_EQ(newest[0]->seq, 12u);
  EXPECT_EQ(newest[3]->seq, 9u);
  const auto last = t.routing.recent(4);
  ASSERT_EQ(last.size(), 4u);
  EXPECT_EQ(last[0]->seq, 9u);
  EXPECT_EQ(last[3]->seq, 12u);
}
