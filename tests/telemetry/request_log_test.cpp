// The request log (GET /requests, the dashboard's Requests view) and the traffic history (GET
// /traffic): bounded rings, newest first, filters; what a page opening late is given.
#include "telemetry/request_log.hpp"
#include "telemetry/traffic.hpp"

#include <gtest/gtest.h>

using namespace hydra::telemetry;
using namespace std::chrono;

namespace {

RequestRecord rec(std::string model, std::string node, std::string outcome) {
  RequestRecord r;
  r.model = std::move(model);
  r.node = std::move(node);
  r.outcome = std::move(outcome);
  return r;
}

std::vector<uint64_t> seqs(const std::vector<const RequestRecord*>& rs) {
  std::vector<uint64_t> out;
  for (const auto* r : rs) out.push_back(r->seq);
  return out;
}

}  // namespace

TEST(RequestLog, KeepsTheNewestUpToItsCapacityNewestFirst) {
  RequestLog log(3);
  for (int i = 0; i < 5; ++i) log.record(rec("m", "a", "served"));
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(seqs(log.recent({})), (std::vector<uint64_t>{5, 4, 3}));
  RequestFilter two;
  two.limit = 2;
  EXPECT_EQ(seqs(log.recent(two)), (std::vector<uint64_t>{5, 4}));
  RequestFilter after;
  after.after = 4;
  EXPECT_EQ(seqs(log.recent(after)), (std::vector<uint64_t>{5}));
}

TEST(RequestLog, FiltersByModelNodeAndOutcomeTogether) {
  RequestLog log;
  log.record(rec("llama3.2:3b", "a", "served"));    // 1
  log.record(rec("llama3.2:3b", "b", "served"));    // 2
  log.record(rec("qwen3:8b", "a", "failed"));       // 3
  log.record(rec("llama3.2:3b", "", "unroutable")); // 4
  log.record(rec("llama3.2:3b", "a", "failed"));    // 5
  RequestFilter f;
  f.node = "a";
  EXPECT_EQ(seqs(log.recent(f)), (std::vector<uint64_t>{5, 3, 1}));
  f.model = "llama3.2:3b";
  EXPECT_EQ(seqs(log.recent(f)), (std::vector<uint64_t>{5, 1}));
  f.outcome = "failed";
  EXPECT_EQ(seqs(log.recent(f)), (std::vector<uint64_t>{5}));
  RequestFilter unroutable;
  unroutable.outcome = "unroutable";
  EXPECT_EQ(seqs(log.recent(unroutable)), (std::vector<uint64_t>{4}));
  // The limit counts matches, not records looked at.
  RequestFilter one_on_a;
  one_on_a.node = "a";
  one_on_a.limit = 1;
  EXPECT_EQ(seqs(log.recent(one_on_a)), (std::vector<uint64_t>{5}));
}

TEST(RequestLog, ListenersHearEachRecordWithItsSeq) {
  RequestLog log(2);
  std::vector<uint64_t> heard;
  log.listen([&](const RequestRecord& r) { heard.push_back(r.seq); });
  log.record(rec("m", "a", "served"));
  log.record(rec("m", "a", "served"));
  log.record(rec("m", "a", "served"));
  EXPECT_EQ(heard, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(RequestLog, JsonCarriesTheTraceAndAnEmptyCacheVerdict) {
  RequestRecord r = rec("m", "a", "served");
  r.status = 200;
  r.ttft_ms = 12.5;
  r.tokens_in = 7;
  r.tokens_out = 9;
  RoutingEvent e;
  e.reason = "resident on a";
  e.candidates.push_back({"a", 3.5, "resident_gpu", true});
  r.routing = std::make_shared<const RoutingEvent>(e);
  auto j = to_json(r);
  EXPECT_TRUE(j.at("cache").is_null());
  EXPECT_TRUE(j.at("request_id").is_null());
  EXPECT_EQ(j.at("status").as_int64(), 200);
  EXPECT_EQ(j.at("ttft_ms").as_double(), 12.5);
  EXPECT_EQ(j.at("tokens_in").as_uint64(), 7u);
  EXPECT_EQ(j.at("routing").at("reason").as_string(), "resident on a");
  EXPECT_EQ(j.at("routing").at("candidates").as_array().size(), 1u);
  RequestRecord unserved = rec("m", "", "unroutable");
  auto u = to_json(unserved);
  EXPECT_TRUE(u.at("node").is_null());
  EXPECT_TRUE(u.at("ttft_ms").is_null());
  EXPECT_TRUE(u.at("routing").is_null());
}

TEST(RoutingLog, FindsAnEntryBySeqWhileItIsKept) {
  RoutingLog log(2);
  for (const char* node : {"a", "b", "c"}) {
    RoutingEvent e;
    e.node_id = node;
    log.record(e);
  }
  EXPECT_EQ(log.find(1), nullptr);  // pushed out
  ASSERT_NE(log.find(2), nullptr);
  EXPECT_EQ(log.find(2)->node_id, "b");
  EXPECT_EQ(log.find(3)->node_id, "c");
  EXPECT_EQ(log.find(4), nullptr);
  EXPECT_EQ(log.find(0), nullptr);
}

TEST(TrafficHistory, EachTickKeepsThatSecondsCountsPerNodeForAsLongAsTheHistoryLasts) {
  Traffic t(seconds(10), 5);
  const Traffic::Time start{hours(1)};
  t.record(start, 5, 10, 3, "a");
  t.record(start + milliseconds(200), 6, 12, 4, "b");
  t.record(start + milliseconds(300), -1, 2, 0, "", true);
  auto first = t.tick(start + seconds(1), {});
  EXPECT_EQ(first.at("requests").as_uint64(), 3u);
  EXPECT_EQ(first.at("errors").as_uint64(), 1u);
  EXPECT_EQ(first.at("tokens").as_uint64(), 7u);
  EXPECT_EQ(first.at("nodes").at("a").at("tokens").as_uint64(), 3u);
  EXPECT_EQ(first.at("nodes").at("b").at("requests").as_uint64(), 1u);
  EXPECT_EQ(first.at("nodes").as_object().size(), 2u);
  // The next second starts from zero; the history is bounded, oldest first.
  for (int i = 2; i <= 8; ++i) {
    Traffic::Now now;
    now.unix_ms = i;
    auto s = t.tick(start + seconds(i), now);
    EXPECT_EQ(s.at("requests").as_uint64(), 0u);
  }
  EXPECT_EQ(t.history_size(), 5u);
  auto all = t.history(300);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all.front().at("t").as_int64(), 4);
  EXPECT_EQ(all.back().at("t").as_int64(), 8);
  auto two = t.history(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two.front().at("t").as_int64(), 7);
}
