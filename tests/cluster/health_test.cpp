#include "cluster/health.hpp"
#include "cluster/node_info.hpp"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::cluster;
using namespace std::chrono;

TEST(Health, FailuresMakeSuspectThenEjectedWithGrowingBackoff) {
  HealthSettings s;
  s.eject_after = 3;
  s.eject_base = seconds(1);
  s.eject_max = seconds(5);
  NodeView n;
  SteadyTime t{hours(1)};
  on_probe_success(n, t);
  EXPECT_EQ(n.health, Health::healthy);
  on_failure(n, t, s, "boom");
  EXPECT_EQ(n.health, Health::suspect);
  EXPECT_TRUE(n.routable());
  on_failure(n, t, s, "boom");
  on_failure(n, t, s, "boom");
  EXPECT_EQ(n.health, Health::ejected);
  EXPECT_EQ(n.ejected_until, t + seconds(1));
  // A passing probe during the backoff changes nothing; after it, the node is readmitted.
  on_probe_success(n, t + milliseconds(500));
  EXPECT_EQ(n.health, Health::ejected);
  on_probe_success(n, t + seconds(1));
  EXPECT_EQ(n.health, Health::healthy);
  EXPECT_EQ(n.consecutive_failures, 0);
  // Ejected again: twice as long, then capped.
  for (int i = 0; i < 3; ++i) on_failure(n, t, s, "boom");
  EXPECT_EQ(n.ejected_until, t + seconds(2));
  on_probe_success(n, t + seconds(2));
  for (int i = 0; i < 3; ++i) on_failure(n, t, s, "boom");
  EXPECT_EQ(n.ejected_until, t + seconds(4));
  on_probe_success(n, t + seconds(4));
  for (int i = 0; i < 3; ++i) on_failure(n, t, s, "boom");
  EXPECT_EQ(n.ejected_until, t + seconds(5));
}

TEST(Health, ProbesDoNotHideFailingRequests) {
  HealthSettings s;
  NodeView n;
  SteadyTime t{hours(1)};
  on_probe_success(n, t);
  on_failure(n, t, s, "500");
  on_probe_success(n, t);  // answers /api/version fine ...
  on_failure(n, t, s, "500");
  on_probe_success(n, t);
  on_failure(n, t, s, "500");  // ... yet its requests keep failing
  EXPECT_EQ(n.health, Health::ejected);
  on_request_success(n);
  EXPECT_EQ(n.health, Health::healthy);
}

TEST(Health, NeverReachedNodeIsNotRoutableAndProbedOften) {
  HealthSettings s;
  NodeView n;
  SteadyTime t{hours(1)};
  EXPECT_FALSE(n.routable());
  on_failure(n, t, s, "refused");
  EXPECT_EQ(n.health, Health::ejected);
  EXPECT_EQ(probe_interval(n, t, s), s.eject_base);
  on_probe_success(n, t + s.eject_base);
  EXPECT_EQ(probe_interval(n, t, s), s.interval);
}

TEST(NodeInfo, ParsesTagsAndPs) {
  auto tags = parse_tags(R"({"models":[{"name":"llama3","size":5},{"model":"x:1b"},{"bogus":1}]})");
  ASSERT_TRUE(tags);
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ((*tags)[0].name, "llama3:latest");
  EXPECT_EQ((*tags)[0].size, 5u);
  EXPECT_EQ((*tags)[0].raw.at("name"), "llama3");  // passed on untouched
  auto ps = parse_ps(R"({"models":[{"name":"a:1b","size":10,"size_vram":4}]})");
  ASSERT_TRUE(ps);
  EXPECT_EQ((*ps)[0].size_vram, 4u);
  EXPECT_FALSE(parse_tags("not json"));
  EXPECT_FALSE(parse_ps(R"({"nope":[]})"));
}

TEST(NodeInfo, NodeUrls) {
  auto a = parse_node_url("http://10.0.0.5:11434/");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->id(), "10.0.0.5:11434");
  auto b = parse_node_url("gpu-box");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->url(), "http://gpu-box:11434");
  EXPECT_EQ(parse_node_url("[::1]:9000")->url(), "http://[::1]:9000");
  auto tls = parse_node_url("https://ollama.lan:8443");
  ASSERT_TRUE(tls);
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->id(), "ollama.lan:8443");
  EXPECT_EQ(tls->url(), "https://ollama.lan:8443");
  EXPECT_EQ(parse_node_url("https://ollama.lan")->port, 443);  // https without a port: 443
  EXPECT_FALSE(parse_node_url("http://x:1")->tls);
  EXPECT_FALSE(parse_node_url("ftp://x:1"));
  EXPECT_FALSE(parse_node_url("host:0"));
  EXPECT_FALSE(parse_node_url("host:abc"));
  EXPECT_FALSE(parse_node_url("http://host:1/path"));
}

#include "cluster/discovery.hpp"

TEST(Discovery, TheGatewaysOwnNodeFoundAtItsLanAddressIsTheLoopbackOne) {
  using hydra::cluster::Ipv4;
  Snapshot s;
  NodeView local;
  local.ip = "127.0.0.1";
  local.port = 11434;
  s.nodes.push_back(local);
  const std::vector<Ipv4> mine{boost::asio::ip::make_address_v4("192.168.1.20")};
  EXPECT_TRUE(known_as_loopback(boost::asio::ip::make_address_v4("192.168.1.20"), 11434, mine, s));
  EXPECT_FALSE(known_as_loopback(boost::asio::ip::make_address_v4("192.168.1.21"), 11434, mine, s));  // another machine
  EXPECT_FALSE(known_as_loopback(boost::asio::ip::make_address_v4("192.168.1.20"), 8080, mine, s));   // another port
  s.nodes.edit(0).removed = true;
  EXPECT_FALSE(known_as_loopback(boost::asio::ip::make_address_v4("192.168.1.20"), 11434, mine, s));
}
