// The real `hydra agent` binary as a child process: fixture /proc and /sys, a fake nvidia-smi
// first on PATH, GET /hydra/agent over HTTP, and registration with an in-process fake gateway.
#include "fake_gateway.hpp"
#include "support/fleet.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

#include <boost/json/parse.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

using namespace hydra::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string kFixtures = HYDRA_AGENT_FIXTURES;

// `env PATH=...` puts the fake tools first on PATH (Process appends to the environment,
// where an earlier PATH would win).
std::vector<std::string> agent_argv(const std::string& bin_dir, std::vector<std::string> extra) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> argv{"/usr/bin/env", "PATH=" + kFixtures + "/" + bin_dir + ":" + (path ? path : "/usr/bin:/bin"),
                                hydra_binary(), "agent", "--listen", "127.0.0.1:0",
                                "--proc-root", kFixtures + "/proc", "--sysfs-root", kFixtures + "/sysfs-amd",
                                "--nvml-library", "libhydra-test-no-such-nvml.so.1", "--interval-ms", "100"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

struct RunningAgent {
  std::unique_ptr<Process> process;
  Endpoint endpoint;
  std::string line;
};

RunningAgent start_agent(const std::string& bin_dir, std::vector<std::string> extra = {}) {
  RunningAgent a;
  a.process = std::make_unique<Process>(agent_argv(bin_dir, std::move(extra)));
  auto line = a.process->wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; }, 10s);
  if (!line) throw std::runtime_error("hydra agent did not start");
  a.line = *line;
  a.endpoint = endpoint_from_url(*line);
  return a;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json::value reading(const Endpoint& ep) {
  auto r = get(ep, "/hydra/agent");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.headers["content-type"].rfind("application/json", 0), 0u);
  return json::parse(r.body);
}

}  // namespace

TEST(AgentProcess, ServesTheReading) {
  auto agent = start_agent("bin-nvidia");
  EXPECT_EQ(agent.line, "agent listening on http://127.0.0.1:" + std::to_string(agent.endpoint.port()));
  auto doc = reading(agent.endpoint);
  EXPECT_FALSE(doc.at("hostname").as_string().empty());
  EXPECT_EQ(doc.at("gpu_source").as_string(), "nvidia-smi");
  const auto& gpus = doc.at("gpus").as_array();
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].at("index").to_number<int>(), 0);
  EXPECT_EQ(gpus[0].at("name").as_string(), "NVIDIA GeForce RTX 4090");
  EXPECT_EQ(gpus[0].at("vendor").as_string(), "NVIDIA");
  EXPECT_EQ(gpus[0].at("memory_total_mib").to_number<uint64_t>(), 24564u);
  EXPECT_EQ(gpus[0].at("memory_used_mib").to_number<uint64_t>(), 2048u);
  EXPECT_EQ(gpus[0].at("memory_free_mib").to_number<uint64_t>(), 22516u);
  EXPECT_EQ(gpus[0].at("utilization_pct").to_number<double>(), 35.0);
  EXPECT_TRUE(gpus[1].at("memory_used_mib").is_null());
  EXPECT_EQ(doc.at("ram").at("total_mib").to_number<uint64_t>(), 32000u);
  EXPECT_EQ(doc.at("ram").at("available_mib").to_number<uint64_t>(), 16000u);
  EXPECT_EQ(doc.at("ram").at("swap_total_mib").to_number<uint64_t>(), 4096u);
  EXPECT_EQ(doc.at("ram").at("swap_free_mib").to_number<uint64_t>(), 3072u);
  EXPECT_EQ(doc.at("cpu").at("count").to_number<unsigned>(), 6u);
  EXPECT_DOUBLE_EQ(doc.at("cpu").at("load1").to_number<double>(), 1.25);
  EXPECT_DOUBLE_EQ(doc.at("cpu").at("load15").to_number<double>(), 0.5);
  std::string first = std::string(doc.at("updated_at").as_string());
  EXPECT_EQ(first.size(), 30u);  // 2024-01-02T03:04:05.123456789Z
  EXPECT_EQ(first.back(), 'Z');
  // Refreshed in the background.
  EXPECT_TRUE(wait_for([&] { return reading(agent.endpoint).at("updated_at").as_string() != first; }, 10s));

  auto root = get(agent.endpoint, "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.body, "Hydra agent is running");
  EXPECT_EQ(get(agent.endpoint, "/nope").status, 404);
  EXPECT_EQ(post(agent.endpoint, "/hydra/agent", "{}").status, 405);
}

TEST(AgentProcess, FailingNvidiaSmiFallsBackToSysfs) {
  auto agent = start_agent("bin-nvidia-fail");
  auto doc = reading(agent.endpoint);
  EXPECT_EQ(doc.at("gpu_source").as_string(), "sysfs");
  ASSERT_EQ(doc.at("gpus").as_array().size(), 2u);
  EXPECT_EQ(doc.at("gpus").as_array()[0].at("vendor").as_string(), "AMD");
  EXPECT_EQ(doc.at("gpus").as_array()[0].at("memory_free_mib").to_number<uint64_t>(), 12288u);
  EXPECT_FALSE(doc.at("warnings").as_array().empty());
}

TEST(AgentProcess, StopsOnSigterm) {
  auto agent = start_agent("bin-nvidia");
  ASSERT_EQ(::kill(agent.process->pid(), SIGTERM), 0);
  // stdout closes when the process exits.
  EXPECT_FALSE(agent.process->wait_for_line([](const std::string&) { return true; }, 10s));
  EXPECT_NE(get(agent.endpoint, "/").status, 200);
}

TEST(AgentProcess, RegistersWithTheGateway) {
  FakeGateway gw;
  auto agent = start_agent("bin-nvidia", {"--register", gw.url(), "--token", "tok-123", "--heartbeat-ms", "100",
                                          "--node-url", "http://127.0.0.1:11434", "--name", "box-7"});
  ASSERT_TRUE(wait_for([&] { return gw.count("heartbeat", 200) >= 2; }, 10s)) << read_all(agent.process->stderr_path());
  auto requests = gw.requests();
  const auto& reg = requests.at(0);
  EXPECT_EQ(reg.kind, "register");
  EXPECT_EQ(reg.authorization, "Bearer tok-123");
  EXPECT_EQ(reg.body.at("url").as_string(), "http://127.0.0.1:11434");
  EXPECT_EQ(reg.body.at("agent_url").as_string(), "http://127.0.0.1:" + std::to_string(agent.endpoint.port()));
  EXPECT_EQ(reg.body.at("name").as_string(), "box-7");
  EXPECT_EQ(reg.body.at("resources").at("gpu_source").as_string(), "nvidia-smi");
  EXPECT_EQ(requests.at(1).body.at("resources").at("gpus").as_array().size(), 2u);
  EXPECT_EQ(requests.at(1).authorization, "Bearer tok-123");
  gw.forget_all();
  ASSERT_TRUE(wait_for([&] { return gw.count("register") >= 2 && gw.count("heartbeat", 404) >= 1; }, 10s));
}

TEST(AgentProcess, BadFlagsFailAtStartUp) {
  struct Case {
    std::vector<std::string> flags;
    std::string complaint;
  };
  for (const auto& c : {Case{{"--register", "ftp://gw:8001"}, "--register"},
                        Case{{"--listen", "not-an-endpoint"}, "--listen"},
                        Case{{"--register", "http://127.0.0.1:9", "--node-url", "ollama-box"}, "--node-url"},
                        Case{{"--listen", "127.0.0.8:99999"}, "--listen"}}) {
    Process p(agent_argv("bin-nvidia", c.flags));
    EXPECT_FALSE(p.wait_for_line([](const std::string&) { return true; }, 10s));  // exits, prints nothing
    EXPECT_EQ(p.wait_exit(5s), std::optional<int>(2)) << "a bad flag value is a usage error";
    EXPECT_TRUE(wait_for([&] { return !read_all(p.stderr_path()).empty(); }, 5s));
    auto err = read_all(p.stderr_path());
    EXPECT_NE(err.find(c.complaint), std::string::npos) << err;
  }
}
