// Kept-alive connections to nodes (issue #16): a node that closes its idle connections, or
// closes one just as a request goes out on it, never fails a request or a probe, and is charged
// nothing for it; a node that fails on a new connection still is.
#include "support/fickle_node.hpp"
#include "support/fleet.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <thread>

using namespace hydra::test;
namespace json = boost::json;
using namespace std::chrono;

namespace {

const char* kChat = R"({"model":"m:1b","messages":[{"role":"user","content":"hi"}],"stream":false})";

// `n` chat requests at once; the replies, in any order.
std::vector<HttpReply> burst(Fleet& f, int n) {
  std::vector<HttpReply> out(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (auto& r : out) threads.emplace_back([&f, &r] { r = post(f.gateway(), "/api/chat", kChat); });
  for (auto& t : threads) t.join();
  return out;
}

json::object node_entry(Fleet& f, const std::string& id) {
  auto nodes = json::parse(get(f.gateway(), "/nodes").body);
  for (const auto& n : nodes.at("nodes").as_array())
    if (n.at("id").as_string() == id) return n.as_object();
  return {};
}

// The node is healthy and nothing was charged to it.
void expect_clean(Fleet& f, const FickleNode& node) {
  auto n = node_entry(f, node.id());
  ASSERT_FALSE(n.empty()) << node.id();
  EXPECT_EQ(n.at("health").as_string(), "healthy");
  EXPECT_EQ(n.at("failures").to_number<int64_t>(), 0);
  EXPECT_EQ(n.at("consecutive_failures").to_number<int64_t>(), 0);
  EXPECT_EQ(n.at("last_error").as_string(), "") << n.at("last_error") << "\nthe node saw:\n"
                                                << node.events() << "\nthe gateway said:\n" << f.gateway_log();
  EXPECT_EQ(get(f.gateway(), "/metrics").body.find(",outcome=\"failed\"}"), std::string::npos);
}

void start(Fleet& f, const FickleNode& node, std::vector<std::string> env) {
  env.push_back("HYDRA_VRAM_MONITORING=false");
  f.start_gateway(std::move(env), {"--node", node.url() + "#slots=8"});
}

}  // namespace

TEST(IdleConnections, ABurstAfterTheNodeClosedItsIdleConnectionsIsServedAndChargesTheNodeNothing) {
  FickleNode node(seconds(1));  // closes a connection idle for 1 s
  Fleet f;
  // No probes after the first round; the gateway would keep its idle connections 10 minutes.
  start(f, node, {"HYDRA_HEALTH_INTERVAL=3600", "HYDRA_MODELS_INTERVAL=3600", "HYDRA_POOL_IDLE_TIMEOUT=600"});
  node.hold = 6;  // the six are answered together: six connections
  for (const auto& r : burst(f, 6)) ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_GE(node.connections_seen(), 6u);
  // The node closes every one of them once they have been idle for a second.
  ASSERT_TRUE(wait_for([&] { return node.open_connections() == 0; }, seconds(10))) << node.open_connections();
  node.reset_arrivals();
  for (const auto& r : burst(f, 6)) {
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("hello"), std::string::npos) << r.body;
  }
  expect_clean(f, node);
}

TEST(IdleConnections, ANodeThatClosesEachConnectionAsItIsReusedFailsNoRequestAndNoProbe) {
  FickleNode node;
  node.drop_reused = true;  // every reuse finds the connection closed, before any reply byte
  Fleet f;
  start(f, node, {"HYDRA_HEALTH_INTERVAL=0.1", "HYDRA_MODELS_INTERVAL=0.1"});
  for (int i = 0; i < 4; ++i) ASSERT_EQ(post(f.gateway(), "/api/chat", kChat).status, 200);
  node.hold = 4;
  for (const auto& r : burst(f, 4)) EXPECT_EQ(r.status, 200) << r.body;
  const int versions = node.replied("/api/version");
  ASSERT_TRUE(wait_for([&] { return node.replied("/api/version") >= versions + 5; }, seconds(10)));
  EXPECT_GT(node.dropped(), 5);  // requests and probes did go out on reused connections first
  expect_clean(f, node);
}

TEST(IdleConnections, ANodeThatFailsOnANewConnectionIsStillAFailure) {
  FickleNode node;
  Fleet f;
  start(f, node, {"HYDRA_HEALTH_INTERVAL=3600", "HYDRA_MODELS_INTERVAL=3600"});
  node.drop_all = true;
  auto r = post(f.gateway(), "/api/chat", kChat);
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("no node could serve the request"), std::string::npos) << r.body;
  auto n = node_entry(f, node.id());
  EXPECT_EQ(n.at("failures").to_number<int64_t>(), 1);
  EXPECT_NE(n.at("last_error").as_string(), "");
  EXPECT_GE(node.dropped(), 1);
}
