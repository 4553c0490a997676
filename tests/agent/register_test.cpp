// Registration and heartbeats against an in-process fake gateway.
#include "agent/register.hpp"
#include "fake_gateway.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::agent;
using namespace std::chrono_literals;
using hydra::test::FakeGateway;
using hydra::test::wait_for;

namespace {

Reading sample_reading() {
  Reading r;
  r.hostname = "gpu-box";
  r.gpu_source = GpuSource::nvidia_smi;
  Gpu g;
  g.name = "NVIDIA GeForce RTX 4090";
  g.vendor = "NVIDIA";
  g.memory_total_mib = 24564;
  g.memory_used_mib = 2048;
  g.memory_free_mib = 22516;
  r.gpus.push_back(g);
  r.ram = Ram{32000, 16000, 4096, 3072};
  r.cpu = Cpu{8, Load{0.5, 0.25, 0.125}};
  r.updated_at = SystemClock::instance().wall();
  return r;
}

RegisterOptions options_for(const FakeGateway& gw, std::string token = "") {
  RegisterOptions o;
  o.gateway = gw.url();
  o.node_url = "http://10.0.0.7:11434";
  o.agent_url = "http://10.0.0.7:11435";
  o.name = "gpu-box";
  o.token = std::move(token);
  o.heartbeat = 50ms;
  o.backoff_min = 20ms;
  o.backoff_max = 100ms;
  o.request_timeout = 2s;
  return o;
}

// The agent's side: a reading store and a registrar on their own io_context thread.
class AgentSide {
public:
  explicit AgentSide(RegisterOptions options) {
    store_.publish(sample_reading());
    registrar_ = std::make_unique<Registrar>(ioc_.get_executor(), std::move(options), store_);
    registrar_->start();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~AgentSide() {
    registrar_->stop();
    ioc_.stop();
    thread_.join();
    registrar_.reset();  // before the io_context it posts to
  }

  RegistrarStats stats() const { return registrar_->stats(); }

private:
  boost::asio::io_context ioc_;
  ReadingStore store_;
  std::unique_ptr<Registrar> registrar_;
  std::thread thread_;
};

}  // namespace

TEST(GatewayUrl, Parse) {
  auto u = parse_gateway_url("http://10.0.0.1:8001");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "10.0.0.1");
  EXPECT_EQ(u->port, 8001);
  EXPECT_EQ(u->base_path, "");
  EXPECT_EQ(u->host_header(), "10.0.0.1:8001");
  u = parse_gateway_url("http://gateway.lan/hydra/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "gateway.lan");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->base_path, "/hydra");
  EXPECT_EQ(u->host_header(), "gateway.lan");
  u = parse_gateway_url("http://[::1]:8001/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->host_header(), "[::1]:8001");
  u = parse_gateway_url("https://gw.lan/hydra");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->host_header(), "gw.lan");  // the default port of https is left out
  EXPECT_EQ(parse_gateway_url("https://gw.lan:8001")->host_header(), "gw.lan:8001");
  EXPECT_FALSE(parse_gateway_url("http://gw.lan")->tls);
  for (const char* bad : {"ftp://gw:8001", "gw:8001", "http://", "http://:8001", "http://gw:0", "http://gw:99999",
                          "http://gw:80x", "http://gw:", "http://user@gw", "http://gw/x?y=1"})
    EXPECT_FALSE(parse_gateway_url(bad)) << bad;
}

TEST(Registration, BodiesAndReplies) {
  RegisterOptions o;
  o.node_url = "http://10.0.0.7:11434";
  o.agent_url = "http://10.0.0.7:11435";
  o.name = "gpu-box";
  auto body = registration_body(o, sample_reading());
  EXPECT_EQ(body.at("url").as_string(), "http://10.0.0.7:11434");
  EXPECT_EQ(body.at("agent_url").as_string(), "http://10.0.0.7:11435");
  EXPECT_EQ(body.at("name").as_string(), "gpu-box");
  EXPECT_EQ(body.at("resources").at("gpu_source").as_string(), "nvidia-smi");
  EXPECT_EQ(heartbeat_body(sample_reading()).at("resources").at("ram").at("total_mib").to_number<uint64_t>(), 32000u);

  EXPECT_EQ(registration_id(R"({"id":"abc"})"), "abc");
  EXPECT_EQ(registration_id(R"({"id":42,"other":1})"), "42");
  EXPECT_FALSE(registration_id(R"({"id":""})"));
  EXPECT_FALSE(registration_id(R"({"node":"abc"})"));
  EXPECT_FALSE(registration_id("not json"));
  EXPECT_FALSE(registration_id("[]"));
}

TEST(Registration, BadGatewayUrlThrowsAtStartUp) {
  boost::asio::io_context ioc;
  ReadingStore store;
  RegisterOptions o;
  o.gateway = "ftp://gw:8001";
  EXPECT_THROW(Registrar(ioc.get_executor(), o, store), std::invalid_argument);
  o.gateway = "https://gw:8001";  // https is fine, but its CA file must be usable
  o.gateway_ca = "/nonexistent/ca.pem";
  EXPECT_THROW(Registrar(ioc.get_executor(), o, store), std::invalid_argument);
}

TEST(Registration, RegistersThenSendsHeartbeats) {
  FakeGateway gw;
  AgentSide agent(options_for(gw, "s3cret"));
  ASSERT_TRUE(wait_for([&] { return gw.count("heartbeat", 200) >= 3; }, 10s));
  auto requests = gw.requests();
  ASSERT_GE(requests.size(), 4u);
  const auto& reg = requests[0];
  EXPECT_EQ(reg.kind, "register");
  EXPECT_EQ(reg.authorization, "Bearer s3cret");
  ASSERT_TRUE(reg.body.is_object()) << boost::json::serialize(reg.body);
  EXPECT_EQ(reg.body.at("url").as_string(), "http://10.0.0.7:11434");
  EXPECT_EQ(reg.body.at("agent_url").as_string(), "http://10.0.0.7:11435");
  EXPECT_EQ(reg.body.at("name").as_string(), "gpu-box");
  EXPECT_EQ(reg.body.at("resources").at("hostname").as_string(), "gpu-box");
  EXPECT_EQ(reg.body.at("resources").at("gpus").as_array().size(), 1u);
  EXPECT_EQ(gw.count("register"), 1u);
  for (std::size_t i = 1; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].kind, "heartbeat");
    EXPECT_EQ(requests[i].id, "node-1");
    EXPECT_EQ(requests[i].authorization, "Bearer s3cret");
    ASSERT_TRUE(requests[i].body.is_object());
    EXPECT_EQ(requests[i].body.at("resources").at("gpus").as_array()[0].at("memory_free_mib").to_number<uint64_t>(),
              22516u);
  }
}

TEST(Registration, NoTokenNoAuthorizationHeader) {
  FakeGateway gw;
  AgentSide agent(options_for(gw));
  ASSERT_TRUE(wait_for([&] { return gw.count("heartbeat", 200) >= 1; }, 10s));
  for (const auto& r : gw.requests()) EXPECT_EQ(r.authorization, "");
}

TEST(Registration, ForgottenNodeRegistersAgain) {
  FakeGateway gw;
  AgentSide agent(options_for(gw, "t"));
  ASSERT_TRUE(wait_for([&] { return gw.count("heartbeat", 200) >= 1; }, 10s));
  gw.forget_all();  // the gateway restarted: node-1 is unknown now
  ASSERT_TRUE(wait_for([&] {
    for (const auto& r : gw.requests())
      if (r.kind == "heartbeat" && r.id == "node-2" && r.answered == 200) return true;
    return false;
  }, 10s));
  auto requests = gw.requests();
  // The 404 heartbeat is followed directly by a new registration.
  std::size_t forgotten = 0;
  while (forgotten < requests.size() && requests[forgotten].answered != 404) ++forgotten;
  ASSERT_LT(forgotten + 1, requests.size());
  EXPECT_EQ(requests[forgotten].id, "node-1");
  EXPECT_EQ(requests[forgotten + 1].kind, "register");
  EXPECT_EQ(requests[forgotten + 1].authorization, "Bearer t");
  EXPECT_EQ(gw.count("register"), 2u);
}

TEST(Registration, RetriesFailedRegistrations) {
  FakeGateway gw;
  gw.fail_next_registrations(3);
  AgentSide agent(options_for(gw));
  ASSERT_TRUE(wait_for([&] { return gw.count("heartbeat", 200) >= 1; }, 10s));
  EXPECT_EQ(gw.count("register", 500), 3u);
  EXPECT_EQ(gw.count("register", 200), 1u);
}

TEST(Registration, RetriesWhileTheGatewayIsDown) {
  FakeGateway gw;
  gw.pause();  // connection refused
  AgentSide agent(options_for(gw));
  ASSERT_TRUE(wait_for([&] { return agent.stats().failures >= 3; }, 10s));
  EXPECT_EQ(gw.count("register"), 0u);
  EXPECT_EQ(agent.stats().registrations, 0u);
  gw.resume();
  ASSERT_TRUE(wait_for([&] { return gw.count("heartbeat", 200) >= 2; }, 10s));
  EXPECT_EQ(gw.count("register"), 1u);
  EXPECT_EQ(agent.stats().registrations, 1u);
  // Down again between heartbeats, then back with its memory: heartbeats simply resume.
  gw.pause();
  auto failed = agent.stats().failures;
  ASSERT_TRUE(wait_for([&] { return agent.stats().failures >= failed + 2; }, 10s));
  auto before = gw.count("heartbeat", 200);
  gw.resume();
  ASSERT_TRUE(wait_for([&] { return gw.count("heartbeat", 200) >= before + 2; }, 10s));
  EXPECT_EQ(gw.count("register"), 1u);
}
