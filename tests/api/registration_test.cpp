// Nodes that join by registering (as `hydra agent --register` does), stay by heartbeat, and
// are forgotten when the heartbeats stop.
#include "common/percent.hpp"
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <cstdlib>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <map>
#include <thread>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

// The node as GET /nodes shows it, or null.
json::value listed(const Fleet& f, const std::string& id) {
  auto nodes = json::parse(get(f.gateway(), "/nodes").body).at("nodes").as_array();
  for (auto& n : nodes)
    if (n.at("id").as_string() == id) return n;
  return nullptr;
}

}  // namespace

TEST(Registration, ANodeJoinsByRegisteringAndIsForgottenWithoutHeartbeats) {
  Fleet f;
  f.add_sim("static", {"--model", "m:7b=4"});
  f.start_gateway({"HYDRA_DISCOVERY_GRACE=1.5"});
  auto& joiner = f.add_sim("joiner", {"--model", "only-here:1b=1", "--load-seconds", "0"});
  auto reg = call(f.gateway(), "POST", "/nodes/register",
                  fmt::format(R"({{"url":"http://{}","name":"box-7"}})", joiner.id));
  ASSERT_EQ(reg.status, 200) << reg.body;
  EXPECT_EQ(json::parse(reg.body).at("id").as_string(), joiner.id);
  ASSERT_TRUE(wait_for([&] {
    auto n = listed(f, joiner.id);
    return n.is_object() && n.at("health") == "healthy";
  }, seconds(10))) << f.gateway_log();
  EXPECT_EQ(listed(f, joiner.id).at("source"), "registered");
  EXPECT_EQ(listed(f, joiner.id).at("name"), "box-7");
  auto served = post(f.gateway(), "/api/generate", R"({"model":"only-here:1b","prompt":"x","stream":false})");
  EXPECT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(served.headers["x-hydra-node"], joiner.id);

  // Heartbeats keep it past the grace period ...
  auto until = steady_clock::now() + seconds(3);
  int beats = 0;
  while (steady_clock::now() < until && beats < 100) {
    ASSERT_EQ(call(f.gateway(), "POST", "/nodes/" + joiner.id + "/heartbeat", "{}").status, 200);
    ++beats;
    const std::string encoded = "/nodes/" + hydra::percent_encode(joiner.id) + "/heartbeat";
    ASSERT_EQ(call(f.gateway(), "POST", encoded, "{}").status, 200) << encoded;
    std::this_thread::sleep_for(milliseconds(300));  // an agent's heartbeat interval (pacing, not waiting)
  }
  EXPECT_TRUE(listed(f, joiner.id).is_object());
  // ... and without them it is forgotten, and a heartbeat then asks it to register again.
  EXPECT_TRUE(wait_for([&] { return listed(f, joiner.id).is_null(); }, seconds(10)));
  EXPECT_EQ(call(f.gateway(), "POST", "/nodes/" + joiner.id + "/heartbeat", "{}").status, 404);
  EXPECT_EQ(post(f.gateway(), "/api/generate", R"({"model":"only-here:1b","prompt":"x","stream":false})").status, 404);
  EXPECT_TRUE(listed(f, f.sim(0).id).is_object());  // configured nodes never expire
}

// A gateway registered as a node (here: itself) is never routed to: its probe tells a Hydra
// gateway, which would send every request round to itself (found by a README-only trial: 7,473
// /api/ps fan-outs to itself in 3 s).
TEST(Registration, AGatewayIsNeverANodeNotEvenItself) {
  Fleet f;
  f.add_sim("static", {"--model", "m:7b=4", "--load-seconds", "0"});
  f.start_gateway();
  const std::string self = fmt::format("127.0.0.1:{}", f.gateway().port());
  auto reg = call(f.gateway(), "POST", "/nodes/register", fmt::format(R"({{"url":"http://{}"}})", self));
  ASSERT_EQ(reg.status, 200) << reg.body;
  ASSERT_TRUE(wait_for([&] {
    auto n = listed(f, self);
    return n.is_object() && n.at("last_error").as_string().find("a Hydra gateway") != std::string::npos;
  }, seconds(10))) << get(f.gateway(), "/nodes").body << f.gateway_log();
  EXPECT_NE(listed(f, self).at("health"), "healthy");
  // Fan-outs and requests that name it do not come back through the gateway.
  EXPECT_EQ(get(f.gateway(), "/api/ps").status, 200);
  auto pinned = call(f.gateway(), "POST", "/api/generate", R"({"model":"m:7b","prompt":"x","stream":false})",
                     {{"X-Hydra-Node", self}});
  EXPECT_EQ(pinned.status, 200) << pinned.body;
  EXPECT_EQ(pinned.headers["x-hydra-node"], f.sim(0).id);
  const std::string metrics = get(f.gateway(), "/metrics").body;
  EXPECT_NE(metrics.find(R"(hydra_http_requests_total{route="/api/ps",status="200"} 1)"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(hydra_http_requests_total{route="/api/generate",status="200"} 1)"), std::string::npos)
      << metrics;
  // Registered as a llama-server (probed by its /health, which names a gateway too): the same.
  ASSERT_EQ(call(f.gateway(), "DELETE", "/nodes/" + self, "").status, 200);
  ASSERT_EQ(call(f.gateway(), "POST", "/nodes/register",
                 fmt::format(R"({{"url":"http://{}#kind=llama-server"}})", self)).status, 200);
  ASSERT_TRUE(wait_for([&] {
    auto n = listed(f, self);
    return n.is_object() && n.at("last_error").as_string().find("a Hydra gateway") != std::string::npos;
  }, seconds(10))) << get(f.gateway(), "/nodes").body;
  auto again = call(f.gateway(), "POST", "/api/generate", R"({"model":"m:7b","prompt":"x","stream":false})",
                    {{"X-Hydra-Node", self}});
  EXPECT_EQ(again.headers["x-hydra-node"], f.sim(0).id) << again.body;
}

// A registration's resources show at once, and registering again replaces them (also for a
// node that does not answer yet: they were shown only after a heartbeat).
TEST(Registration, RegisteringAgainUpdatesTheReportedResources) {
  Fleet f;
  f.add_sim("static", {"--model", "m:7b=4"});
  f.start_gateway();
  const std::string id = "127.0.0.9:1";  // nothing listens there
  auto reg = [&](int mib) {
    return call(f.gateway(), "POST", "/nodes/register",
                fmt::format(R"({{"url":"http://{}","resources":{{"gpus":[{{"memory_total_mib":{},"memory_free_mib":{}}}]}}}})",
                            id, mib, mib / 2));
  };
  auto total = [&] {
    auto n = listed(f, id);
    return n.is_object() ? n.at("resources").at("vram_total_bytes").to_number<int64_t>() : -1;
  };
  ASSERT_EQ(reg(8192).status, 200);
  EXPECT_EQ(total(), int64_t{8192} << 20) << listed(f, id);
  EXPECT_EQ(listed(f, id).at("resources").at("source"), "reported");
  ASSERT_EQ(reg(4096).status, 200);
  EXPECT_EQ(total(), int64_t{4096} << 20) << listed(f, id);
}

TEST(Registration, RefusedOutsideAllowedRangesBadInputAndWithoutTheToken) {
  Fleet f;
  f.add_sim("static", {"--model", "m:7b=4"});
  f.start_gateway({"HYDRA_REGISTRATION_TOKEN=s3cret"});
  const std::map<std::string, std::string> auth{{"Authorization", "Bearer s3cret"}};
  EXPECT_EQ(call(f.gateway(), "POST", "/nodes/register", R"({"url":"http://127.0.0.9:11434"})").status, 401);
  auto outside = call(f.gateway(), "POST", "/nodes/register", R"({"url":"http://203.0.113.7:11434"})", auth);
  EXPECT_EQ(outside.status, 403);
  EXPECT_NE(outside.body.find("outside the allowed ranges"), std::string::npos);
  EXPECT_EQ(call(f.gateway(), "POST", "/nodes/register", R"({"url":"http://gpu-box:11434"})", auth).status, 400);
  EXPECT_EQ(call(f.gateway(), "POST", "/nodes/register", R"({"name":"x"})", auth).status, 400);
  EXPECT_EQ(call(f.gateway(), "POST", "/nodes/register", "{", auth).status, 400);
  // Wrong types are a 400 naming the field (they were taken as "no resources", or "url is required").
  auto bad = [&](const std::string& body, const std::string& says) {
    auto r = call(f.gateway(), "POST", "/nodes/register", body, auth);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(says), std::string::npos) << body << " -> " << r.body;
  };
  bad(R"({"url":5})", "url must be a string");
  bad(R"({"url":"http://127.0.0.9:11434","name":7})", "name must be a string");
  bad(R"({"url":"http://127.0.0.9:11434","resources":"x"})", "resources must be an object");
  bad(R"({"url":"http://127.0.0.9:11434","resources":{"gpus":"lots"}})", "resources.gpus must be a list");
  bad(R"({"url":"http://127.0.0.9:11434","resources":{"gpus":[1]}})", "resources.gpus[0] must be an object");
  bad(R"({"url":"http://127.0.0.9:11434","resources":{"ram":[]}})", "resources.ram must be an object");
  EXPECT_TRUE(listed(f, "127.0.0.9:11434").is_null());
  EXPECT_TRUE(listed(f, "203.0.113.7:11434").is_null());
  // Deleting a node needs the token too, and then it is gone from routing.
  EXPECT_EQ(call(f.gateway(), "DELETE", "/nodes/" + f.sim(0).id, "").status, 401);
  EXPECT_EQ(call(f.gateway(), "DELETE", "/nodes/" + f.sim(0).id, "", auth).status, 200);
  EXPECT_TRUE(listed(f, f.sim(0).id).is_null());
  EXPECT_EQ(post(f.gateway(), "/api/generate", R"({"model":"m:7b","prompt":"x"})").status, 503);
  EXPECT_EQ(call(f.gateway(), "DELETE", "/nodes/nowhere:1", "", auth).status, 404);
}

TEST(Registration, TheRealAgentRegistersItsNodeWithReportedResources) {
  Fleet f;
  f.add_sim("static", {"--model", "m:7b=4"});
  f.start_gateway();
  auto& joiner = f.add_sim("joiner", {"--model", "m:7b=4"});
  const std::string fixtures = HYDRA_AGENT_FIXTURES;
  const char* path = std::getenv("PATH");
  auto gw = f.gateway();
  Process agent({"/usr/bin/env", "PATH=" + fixtures + "/bin-nvidia:" + (path ? path : "/usr/bin:/bin"), hydra_binary(),
                 "agent", "--listen", "127.0.0.1:0", "--proc-root", fixtures + "/proc", "--sysfs-root",
                 fixtures + "/sysfs-amd", "--nvml-library", "libhydra-test-no-such-nvml.so.1", "--interval-ms", "100",
                 "--register", fmt::format("http://{}:{}", gw.address().to_string(), gw.port()), "--node-url",
                 "http://" + joiner.id, "--heartbeat-ms", "200"});
  ASSERT_TRUE(wait_for([&] {
    auto n = listed(f, joiner.id);
    return n.is_object() && n.at("health") == "healthy" && n.at("resources").at("source") == "reported";
  }, seconds(15))) << f.gateway_log();
  EXPECT_EQ(listed(f, joiner.id).at("source"), "registered");
  EXPECT_EQ(listed(f, joiner.id).at("resources").at("vram_free_bytes").to_number<uint64_t>(), 22516ull << 20);
  // The agent sends its node id ("127.0.0.1:PORT") percent-encoded; the gateway decodes it, so
  // the heartbeats renew the registration instead of each being a 404 and a new registration.
  EXPECT_TRUE(wait_for([&] { return listed(f, joiner.id).at("heartbeats").to_number<uint64_t>() >= 3; }, seconds(15)))
      << f.gateway_log();
  EXPECT_EQ(f.gateway_log().find("registered again"), std::string::npos) << f.gateway_log();
}

TEST(NodesCommand, PrintsTheGatewaysNodes) {
  Fleet f;
  f.add_sim("a", {"--model", "m:7b=4", "--loaded", "m:7b"});
  f.add_sim("b", {"--model", "m:7b=4"});
  f.start_gateway();
  auto gw = f.gateway();
  Process nodes({hydra_binary(), "nodes", "--gateway", fmt::format("http://{}:{}", gw.address().to_string(), gw.port())});
  std::map<std::string, std::string> rows;
  for (int i = 0; i < 10; ++i) {
    auto line = nodes.wait_for_line([](const std::string&) { return true; }, seconds(10));
    if (!line) break;
    rows[line->substr(0, line->find(' '))] = *line;
  }
  ASSERT_TRUE(rows.count("NODE")) << "no header";
  ASSERT_TRUE(rows.count(f.sim(0).id));
  ASSERT_TRUE(rows.count(f.sim(1).id));
  EXPECT_NE(rows[f.sim(0).id].find("healthy"), std::string::npos);
  EXPECT_NE(rows[f.sim(0).id].find("configured"), std::string::npos);
  EXPECT_NE(rows[f.sim(0).id].find("m:7b"), std::string::npos);  // resident there
  EXPECT_NE(rows[f.sim(1).id].find(" -"), std::string::npos);     // nothing resident
  Process refused({hydra_binary(), "nodes", "--gateway", "http://127.0.0.1:1"});
  EXPECT_FALSE(refused.wait_for_line([](const std::string&) { return true; }, seconds(10)));  // error goes to stderr
}
