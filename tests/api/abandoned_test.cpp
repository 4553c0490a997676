// A client that leaves (issue #16): mid-stream, its request is `abandoned` on the node that
// was serving it, in the metrics, /stats and /routing, and nothing counts as failed; while it
// waited in the queue, it is abandoned with no node.
#include "support/fleet.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <thread>

using namespace hydra::test;
namespace json = boost::json;
using namespace std::chrono;

namespace {

std::vector<std::string> slow_sim(const char* tokens_per_second = "20") {
  return {"--model", "llama3.2:3b=2", "--loaded", "llama3.2:3b", "--tokens-per-second", tokens_per_second,
          "--load-seconds", "0.1"};
}

HttpCall long_chat() {
  HttpCall c;
  c.method = "POST";
  c.target = "/api/chat";
  c.body = R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"a long story"}],"options":{"num_predict":400}})";
  return c;
}

std::string abandoned_series(const std::string& node) {
  return fmt::format(R"(hydra_requests_total{{endpoint="/api/chat",model="llama3.2:3b",node="{}",outcome="abandoned"}} 1)",
                     node);
}

// The newest /routing entry (an empty object when there is none).
json::object last_decision(Fleet& f) {
  auto body = json::parse(get(f.gateway(), "/routing").body);
  const auto& decisions = body.at("decisions").as_array();
  return decisions.empty() ? json::object{} : decisions.back().as_object();
}

}  // namespace

TEST(Abandoned, AClientThatLeavesMidStreamIsAbandonedOnTheNodeThatServedIt) {
  Fleet f;
  f.add_sim("a", slow_sim());
  f.start_gateway();
  const std::string node = f.sim(0).id;
  HttpCall c = long_chat();
  int chunks = 0;
  c.on_data = [&](std::string_view) { return ++chunks < 1; };  // the first chunk, then hang up
  request(f.gateway(), c);
  ASSERT_EQ(chunks, 1);

  const std::string series = abandoned_series(node);
  ASSERT_TRUE(wait_for([&] { return get(f.gateway(), "/metrics").body.find(series) != std::string::npos; }, seconds(10)))
      << get(f.gateway(), "/metrics").body;
  const std::string metrics = get(f.gateway(), "/metrics").body;
  EXPECT_EQ(metrics.find(",outcome=\"failed\"}"), std::string::npos) << metrics;

  auto d = last_decision(f);
  EXPECT_EQ(d.at("outcome").as_string(), "abandoned") << json::serialize(d);
  EXPECT_EQ(d.at("selected_node"), json::value(node)) << json::serialize(d);
  EXPECT_FALSE(d.contains("error")) << json::serialize(d);
  const std::string reason(d.at("reason").as_string());
  EXPECT_NE(reason.find("abandoned: the client left after "), std::string::npos) << reason;
  EXPECT_NE(reason.find(" chunks ("), std::string::npos) << reason;
  EXPECT_NE(reason.find("of " + node + "'s reply"), std::string::npos) << reason;

  auto stats = json::parse(get(f.gateway(), "/stats").body).at("routing").as_object();
  EXPECT_EQ(stats.at("abandoned").to_number<int64_t>(), 1) << json::serialize(stats);
  EXPECT_EQ(stats.at("unserved").to_number<int64_t>(), 0) << json::serialize(stats);
  EXPECT_EQ(stats.at("by_node").at(node).to_number<int64_t>(), 1) << json::serialize(stats);
  // The node is not blamed for its client leaving.
  auto nodes = json::parse(get(f.gateway(), "/nodes").body);
  EXPECT_EQ(nodes.at("nodes").at(0).at("failures").to_number<int64_t>(), 0);
  // The request log says what the client got before it left, as the routing log does.
  auto rec = json::parse(get(f.gateway(), "/requests").body).at("requests").at(0).as_object();
  EXPECT_EQ(rec.at("outcome").as_string(), "abandoned") << json::serialize(rec);
  EXPECT_EQ(rec.at("attempts").to_number<int64_t>(), 1) << json::serialize(rec);
  EXPECT_GE(rec.at("ttft_ms").to_number<double>(), 0.0) << json::serialize(rec);
  EXPECT_GE(rec.at("tokens_out").to_number<int64_t>(), 1) << json::serialize(rec);
}

TEST(Abandoned, AClientThatLeavesWhileQueuedIsAbandonedWithNoNode) {
  Fleet f;
  f.add_sim("a", slow_sim("2"), "#slots=1");  // its reply takes far longer than the test
  f.start_gateway();
  const std::string node = f.sim(0).id;
  // The first request holds the only slot until the test lets it go.
  std::atomic<bool> release{false}, streaming{false};
  std::thread first([&] {
    HttpCall c = long_chat();
    c.on_data = [&](std::string_view) {
      streaming = true;
      return !release.load();
    };
    request(f.gateway(), c);
  });
  ASSERT_TRUE(wait_for([&] { return streaming.load(); }, seconds(10)));
  // The second waits in the queue, and its client gives up after a second.
  std::thread second([&] {
    HttpCall c = long_chat();
    c.timeout = seconds(1);
    request(f.gateway(), c);
  });
  const bool queued = wait_for(
      [&] { return json::parse(get(f.gateway(), "/stats").body).at("queue").at("waiting").to_number<int64_t>() == 1; },
      seconds(10));
  const bool logged = wait_for([&] { return last_decision(f).contains("outcome"); }, seconds(10));
  second.join();
  release = true;
  first.join();
  ASSERT_TRUE(queued);
  ASSERT_TRUE(logged);

  auto body = json::parse(get(f.gateway(), "/routing").body);
  const auto& decisions = body.at("decisions").as_array();
  ASSERT_GE(decisions.size(), 1u);
  const auto& d = decisions.front().as_object();  // the queued one ended first
  EXPECT_EQ(d.at("outcome").as_string(), "abandoned") << json::serialize(d);
  EXPECT_TRUE(d.at("selected_node").is_null()) << json::serialize(d);
  EXPECT_EQ(d.at("queued"), json::value(true)) << json::serialize(d);
  EXPECT_NE(std::string(d.at("reason").as_string()).find("left after"), std::string::npos) << json::serialize(d);
  EXPECT_NE(std::string(d.at("reason").as_string()).find("waiting in the queue"), std::string::npos)
      << json::serialize(d);
  // The first one, once its client leaves too, is abandoned on its node.
  ASSERT_TRUE(wait_for([&] { return get(f.gateway(), "/metrics").body.find(abandoned_series(node)) != std::string::npos; },
                       seconds(10)));
  const std::string metrics = get(f.gateway(), "/metrics").body;
  EXPECT_NE(metrics.find(abandoned_series("")), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find(",outcome=\"failed\"}"), std::string::npos) << metrics;
  // The reply counts say what the logs say: the queued one got no reply (499, nginx's "client
  // closed request"), not a 500 written to no one; the first had its 200.
  EXPECT_NE(metrics.find(R"(hydra_http_requests_total{route="/api/chat",status="499"} 1)"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find(R"(hydra_http_requests_total{route="/api/chat",status="500"})"), std::string::npos) << metrics;
  const auto statuses = json::parse(get(f.gateway(), "/stats").body).at("requests").at("by_endpoint").at("/api/chat").at("by_status");
  EXPECT_EQ(statuses.at("499").to_number<int64_t>(), 1) << json::serialize(statuses);
  EXPECT_EQ(statuses.at("200").to_number<int64_t>(), 1) << json::serialize(statuses);
}
