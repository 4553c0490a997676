// Continuous discovery in hydra serve, on loopback only: nodes found by scanning, forgotten
// after the grace period when they stop answering, and new ones picked up by the next scan.
#include "support/fleet.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <set>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

uint16_t free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::set<std::string> discovered(const Fleet& f) {
  std::set<std::string> out;
  auto r = get(f.gateway(), "/nodes");
  if (r.status != 200) return out;
  json::value doc = json::parse(r.body);
  for (auto& n : doc.at("nodes").as_array())
    if (n.at("source") == "discovered" && n.at("health") == "healthy") out.insert(std::string(n.at("id").as_string()));
  return out;
}

std::unique_ptr<Process> sim_at(const std::string& addresses, uint16_t port) {
  auto p = std::make_unique<Process>(std::vector<std::string>{hydra_binary(), "sim", "--addresses", addresses, "--listen",
                                                              fmt::format("127.0.0.1:{}", port), "--model", "m:7b=4"});
  if (!p->wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; }, seconds(10)))
    return nullptr;
  return p;
}

}  // namespace

TEST(DiscoveryInServe, FindsForgetsAndPicksUpNodesOnLoopback) {
  const uint16_t port = free_port();
  auto many = sim_at("127.0.0.2-127.0.0.40", port);
  ASSERT_TRUE(many);
  auto lone = sim_at("127.0.0.42", port);
  ASSERT_TRUE(lone);
  // A llama.cpp rpc-server stand-in: a listening socket is all a scan sees of one.
  boost::asio::io_context rpc_io;
  boost::asio::ip::tcp::acceptor rpc(rpc_io, {boost::asio::ip::make_address("127.0.0.44"), 0});
  const uint16_t rpc_port = rpc.local_endpoint().port();
  Fleet f;
  f.discovery = true;
  f.start_gateway({"HYDRA_DISCOVERY_CIDRS=127.0.0.0/26", fmt::format("HYDRA_DISCOVERY_PORTS={}", port),
                   fmt::format("HYDRA_DISCOVERY_RPC_PORTS={}", rpc_port),
                   "HYDRA_DISCOVERY_INTERVAL=0.5", "HYDRA_DISCOVERY_GRACE=1", "HYDRA_DISCOVERY_TIMEOUT=0.3"});
  std::set<std::string> expected;
  for (int i = 2; i <= 40; ++i) expected.insert(fmt::format("127.0.0.{}:{}", i, port));
  expected.insert(fmt::format("127.0.0.42:{}", port));
  ASSERT_TRUE(wait_for([&] { return discovered(f) == expected; }, seconds(20))) << discovered(f).size() << "\n"
                                                                               << f.gateway_log();
  // Probes of nodes found while others were being added went out intact (a dangling Host
  // header once made the first of them answer 400).
  EXPECT_EQ(f.gateway_log().find("probe failed: status"), std::string::npos) << f.gateway_log();
  // Routed requests reach discovered nodes; rpc-servers are listed apart, not as nodes.
  EXPECT_EQ(post(f.gateway(), "/api/generate", R"({"model":"m:7b","prompt":"x","stream":false})").status, 200);
  auto rpc_servers = json::parse(get(f.gateway(), "/nodes").body).at("rpc_servers");
  ASSERT_EQ(rpc_servers.as_array().size(), 1u) << rpc_servers;
  EXPECT_EQ(rpc_servers.at(0).at("address"), json::value(fmt::format("127.0.0.44:{}", rpc_port)));
  EXPECT_EQ(rpc_servers.at(0).at("source"), "discovered");

  lone->kill_now();
  expected.erase(fmt::format("127.0.0.42:{}", port));
  EXPECT_TRUE(wait_for([&] { return discovered(f) == expected; }, seconds(20))) << f.gateway_log();

  auto late = sim_at("127.0.0.43", port);
  ASSERT_TRUE(late);
  expected.insert(fmt::format("127.0.0.43:{}", port));
  EXPECT_TRUE(wait_for([&] { return discovered(f) == expected; }, seconds(20))) << f.gateway_log();
}

TEST(DiscoveryInServe, ANodeConfiguredByHostNameKeepsItsName) {
  Fleet f;
  f.add_sim("a", {"--model", "m:7b=4"});
  auto& sim = f.sim(0);
  f.start_gateway({}, {"--node", fmt::format("http://localhost:{}", sim.endpoint.port())});
  bool seen = false;
  json::value doc = json::parse(get(f.gateway(), "/nodes").body);
  for (auto& n : doc.at("nodes").as_array()) {
    if (n.at("hostname") != "localhost") continue;
    seen = true;
    EXPECT_EQ(n.at("address"), "127.0.0.1");
    EXPECT_EQ(n.at("health"), "healthy");
  }
  EXPECT_TRUE(seen) << json::serialize(doc);
}
