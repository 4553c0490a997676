// `hydra diag` as a user runs it: one healthy sim with its agent, a closed port, and an HTTP
// server that is not Ollama; every step reported, the right advice, the exit status.
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <cstdlib>
#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

const std::string kFixtures = HYDRA_AGENT_FIXTURES;

// The agent with a fake nvidia-smi (an RTX 4090, 22 GB free); it is also an HTTP server that
// is not Ollama.
std::unique_ptr<Process> start_agent(Endpoint& ep) {
  const char* path = std::getenv("PATH");
  auto agent = std::make_unique<Process>(std::vector<std::string>{
      "/usr/bin/env", "PATH=" + kFixtures + "/bin-nvidia:" + (path ? path : "/usr/bin:/bin"), hydra_binary(), "agent",
      "--listen", "127.0.0.1:0", "--proc-root", kFixtures + "/proc", "--sysfs-root", kFixtures + "/sysfs-amd",
      "--nvml-library", "libhydra-test-no-such-nvml.so.1", "--interval-ms", "100"});
  auto line = agent->wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; },
                                   seconds(10));
  if (line) ep = endpoint_from_url(*line);
  return line ? std::move(agent) : nullptr;
}

// `hydra diag --json ARGS...`: the parsed report and the exit status.
std::pair<json::array, int> diag(std::vector<std::string> args) {
  std::vector<std::string> argv{hydra_binary(), "diag", "--json", "--timeout-ms", "2000"};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv);
  auto line = p.wait_for_line([](const std::string& l) { return l.starts_with("["); }, seconds(20));
  auto status = p.wait_exit(seconds(10));
  if (!line || !status) return {{}, -1};
  return {json::parse(*line).as_array(), *status};
}

// The check of `step` in one node's report, or null.
const json::object* step(const json::value& node, const std::string& name) {
  for (const auto& c : node.at("checks").as_array())
    if (c.at("step").as_string() == name) return &c.as_object();
  return nullptr;
}

std::string str(const json::object* o, const char* key) {
  return o && o->contains(key) ? std::string(o->at(key).as_string()) : std::string();
}

}  // namespace

TEST(Diag, ExplainsEveryNodeStepByStep) {
  Endpoint agent_ep;
  auto agent = start_agent(agent_ep);
  ASSERT_TRUE(agent);
  Fleet f;
  f.add_sim("a", {"--model", "m:7b=4", "--model", "other:3b=2", "--loaded", "m:7b", "--tokens-per-second", "400"});
  const std::string good = fmt::format("{}#agent={}", ("http://" + f.sim(0).id), agent_ep.port());
  const std::string closed = "http://127.0.0.1:1";
  const std::string not_ollama = fmt::format("http://127.0.0.1:{}", agent_ep.port());
  auto [report, status] = diag({good, closed, not_ollama});
  ASSERT_EQ(report.size(), 3u);
  EXPECT_EQ(status, 1) << "a node failed";

  const auto& ok = report[0];
  EXPECT_TRUE(ok.at("ok").as_bool()) << json::serialize(ok);
  EXPECT_EQ(str(step(ok, "ollama"), "level"), "ok");
  EXPECT_EQ(str(step(ok, "models"), "detail"), "2 on disk: m:7b, other:3b");
  EXPECT_EQ(str(step(ok, "loaded"), "detail").find("m:7b (GPU, "), 0u) << str(step(ok, "loaded"), "detail");
  EXPECT_NE(str(step(ok, "agent"), "detail").find("VRAM free"), std::string::npos) << json::serialize(ok);

  const auto& refused = report[1];
  EXPECT_FALSE(refused.at("ok").as_bool());
  EXPECT_EQ(str(step(refused, "connect"), "level"), "fail");
  EXPECT_NE(str(step(refused, "connect"), "detail").find("refused"), std::string::npos);
  EXPECT_NE(str(step(refused, "connect"), "advice").find("ollama serve"), std::string::npos);
  EXPECT_EQ(step(refused, "ollama"), nullptr) << "later steps are pointless and skipped";

  const auto& other = report[2];
  EXPECT_EQ(str(step(other, "connect"), "level"), "ok");
  EXPECT_EQ(str(step(other, "ollama"), "level"), "fail");
  EXPECT_NE(str(step(other, "ollama"), "detail").find("not Ollama"), std::string::npos);
}

TEST(Diag, AllGoodExitsZeroAndWarnsWithoutAnAgent) {
  Fleet f;
  f.add_sim("a", {"--model", "m:7b=4", "--tokens-per-second", "400"});
  auto [report, status] = diag({("http://" + f.sim(0).id) + "#agent=1"});
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(str(step(report[0], "loaded"), "detail"), "none loaded now");
  EXPECT_EQ(str(step(report[0], "agent"), "level"), "warn");
  EXPECT_NE(str(step(report[0], "agent"), "advice").find("hydra agent"), std::string::npos);
}

TEST(Diag, AGatewayIsNotANode) {
  Fleet f;
  f.add_sim("a", {"--model", "m:7b=4"});
  f.start_gateway();
  auto [report, status] = diag({fmt::format("http://127.0.0.1:{}", f.gateway().port())});
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(str(step(report[0], "ollama"), "level"), "fail");
  EXPECT_NE(str(step(report[0], "ollama"), "detail").find("a Hydra gateway"), std::string::npos) << report[0];
}

TEST(Diag, SaysCpuForAModelLoadedOnACpuOnlyNode) {
  Fleet f;
  f.add_sim("cpu", {"--vram-gb", "0", "--model", "m:7b=4", "--loaded", "m:7b"});
  auto [report, status] = diag({("http://" + f.sim(0).id) + "#agent=1"});
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(str(step(report[0], "loaded"), "detail").find("m:7b (CPU, "), 0u) << json::serialize(report);
}

TEST(Diag, ABadUrlIsAUsageError) {
  auto [report, status] = diag({"ftp://nowhere"});
  EXPECT_EQ(status, -1);  // no report printed
  Process p({hydra_binary(), "diag", "ftp://nowhere"});
  EXPECT_EQ(p.wait_exit(seconds(10)), 2);
}
