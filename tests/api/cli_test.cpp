// The client sub-commands as a user runs them: `hydra models`, `hydra generate`,
// `hydra orchestrate` against a running gateway in front of sims.
#include "support/fake_node.hpp"
#include "support/fleet.hpp"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <set>
#include <sstream>

using namespace hydra::test;
using namespace std::chrono;

namespace {

std::string gateway_url(const Fleet& f) {
  return "http://" + f.gateway().address().to_string() + ":" + std::to_string(f.gateway().port());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits until the process's stderr holds `text`; returns what it holds.
std::string wait_stderr(const Process& p, const std::string& text) {
  std::string seen;
  wait_for([&] { return (seen = read_file(p.stderr_path())).find(text) != std::string::npos; }, seconds(10));
  return seen;
}

// The HOST:PORT a process prints after "http://" on the first stdout line holding `mark`
// (a sim's "node NAME listening on http://HOST:PORT", a gateway's "Ollama API on http://...");
// empty when none came within 20 s.
std::string printed_address(Process& p, const std::string& mark) {
  auto line = p.wait_for_line([&](const std::string& l) { return l.find(mark) != std::string::npos; }, seconds(20));
  if (!line || line->find("http://") == std::string::npos) return {};
  std::string at = line->substr(line->find("http://") + 7);
  return at.substr(0, at.find(' '));
}

// A loopback port nobody listens on: bound (so that nothing else takes it while the test runs)
// but never listening, so a connection to it is refused.
class DeadPort {
public:
  DeadPort() {
    socket_.open(boost::asio::ip::tcp::v4());
    socket_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(socket_.local_endpoint().port()); }

private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_{ioc_};
};

void start_fleet(Fleet& f) {
  f.add_sim("coder", {"--model", "qwen2.5-coder:14b=9", "--model", "qwen3:1.7b=1.1", "--loaded", "qwen3:1.7b",
                      "--tokens-per-second", "400", "--load-seconds", "0.05"});
  f.add_sim("general", {"--model", "qwen3:1.7b=1.1", "--tokens-per-second", "400", "--load-seconds", "0.05"});
  f.start_gateway();
}

}  // namespace

TEST(Cli, ModelsListsEveryModelAndItsNodes) {
  Fleet f;
  start_fleet(f);
  Process p({hydra_binary(), "models", "--gateway", gateway_url(f)});
  auto line = p.wait_for_line([](const std::string& l) { return l.starts_with("qwen3:1.7b"); }, seconds(10));
  ASSERT_TRUE(line) << read_file(p.stderr_path());
  EXPECT_NE(line->find(f.sim(0).id), std::string::npos) << *line;
  EXPECT_NE(line->find(f.sim(1).id), std::string::npos) << *line;
  // qwen3:1.7b is on both nodes: counted once at start-up.
  EXPECT_EQ(f.fleet_line(), "hydra serve: 2 of 2 nodes reachable, 2 distinct models on disk across them");
}

TEST(Cli, ModelsColumnsStayAlignedWithLongNames) {
  Fleet f;
  f.add_sim("a", {"--model", "registry.example.com/team/a-very-long-model-name:70b-instruct-q4_K_M=40", "--model",
                  "x:1b=1"});
  f.start_gateway();
  auto [status, out] = run_shell(hydra_binary() + " models --gateway " + gateway_url(f));
  ASSERT_EQ(status, 0) << out;
  std::istringstream lines(out);
  std::string header, row;
  std::getline(lines, header);
  const auto nodes_at = header.find("NODES");
  ASSERT_NE(nodes_at, std::string::npos) << out;
  int rows = 0;
  while (std::getline(lines, row) && rows < 10) {
    ++rows;
    EXPECT_EQ(row.find(f.sim(0).id), nodes_at) << out;
  }
  EXPECT_EQ(rows, 2) << out;
}

TEST(Cli, GenerateStreamsTheReplyAndSaysWhereItRan) {
  Fleet f;
  start_fleet(f);
  Process p({hydra_binary(), "generate", "--gateway", gateway_url(f), "--model", "qwen2.5-coder:14b",
             "--max-tokens", "6", "write a parser"});
  auto line = p.wait_for_line([](const std::string& l) { return !l.empty(); }, seconds(10));
  ASSERT_TRUE(line) << read_file(p.stderr_path());
  EXPECT_TRUE(line->starts_with("coder:")) << *line;  // only "coder" has the model
  std::string err = wait_stderr(p, "tokens");
  EXPECT_NE(err.find("qwen2.5-coder:14b on " + f.sim(0).id + ": 6 tokens"), std::string::npos) << err;
}

TEST(Cli, GenerateReportsTheGatewaysError) {
  Fleet f;
  start_fleet(f);
  Process p({hydra_binary(), "generate", "--gateway", gateway_url(f), "--model", "missing:1b", "hello"});
  std::string err = wait_stderr(p, "not found");
  EXPECT_NE(err.find("model \"missing:1b\" not found"), std::string::npos) << err;
  EXPECT_NE(err.find("status 404"), std::string::npos) << err;
}

// HYDRA_URL (or --gateway) may list several gateways: one that nobody listens on is passed
// over, with a line on stderr, and the next one answers.
TEST(Cli, SeveralGatewaysTheNextAnswersWhenOneIsDown) {
  Fleet f;
  start_fleet(f);
  DeadPort dead;
  const std::string passed = "gateway " + dead.url() + " unreachable (Connection refused); trying " + gateway_url(f);
  auto [status, out] = run_shell("HYDRA_URL=" + dead.url() + "," + gateway_url(f) + " " + hydra_binary() +
                                 " generate --model qwen2.5-coder:14b --max-tokens 6 'write a parser'");
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find(passed + "\ncoder:"), std::string::npos) << out;  // the line first, then the reply
  EXPECT_NE(out.find("qwen2.5-coder:14b on " + f.sim(0).id + ": 6 tokens"), std::string::npos) << out;

  auto models = run_shell(hydra_binary() + " models --gateway '" + dead.url() + ", " + gateway_url(f) + "'");
  ASSERT_EQ(models.first, 0) << models.second;
  EXPECT_NE(models.second.find(passed), std::string::npos) << models.second;
  EXPECT_NE(models.second.find("\nqwen3:1.7b"), std::string::npos) << models.second;
}

// A gateway that answers 503 is passed over too, before anything of its reply is shown; any
// other answer (a 404 here) is the answer, and the gateways after it are not asked.
TEST(Cli, SeveralGatewaysA503IsPassedOverA404IsTheAnswer) {
  using hydra::http::bhttp::status;
  FakeNode busy([](hydra::http::Exchange& ex) -> hydra::http::awaitable<void> {
    co_await ex.respond(status::service_unavailable, R"({"error":"server busy, please try again."})");
  });
  Fleet f;
  start_fleet(f);
  DeadPort dead;
  auto [code, out] = run_shell("(HYDRA_URL=" + busy.url() + "," + gateway_url(f) + " " + hydra_binary() +
                               " generate --model qwen2.5-coder:14b --max-tokens 6 'write a parser' 2>/dev/null)");
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(out.starts_with("coder:")) << out;  // stdout holds the second gateway's reply only
  EXPECT_EQ(busy.hits("/generate/stream"), 1);

  auto missing = run_shell("HYDRA_URL=" + gateway_url(f) + "," + dead.url() + " " + hydra_binary() +
                           " generate --model missing:1b hello");
  EXPECT_EQ(missing.first, 1) << missing.second;
  EXPECT_NE(missing.second.find("status 404"), std::string::npos) << missing.second;
  EXPECT_EQ(missing.second.find("trying"), std::string::npos) << missing.second;
}

// When no gateway of the list answers: exit 1, and the error names each with what went wrong.
TEST(Cli, SeveralGatewaysAllDownIsAFailureThatNamesThem) {
  DeadPort a, b;
  auto [status, out] = run_shell("HYDRA_URL=" + a.url() + "," + b.url() + " " + hydra_binary() + " models");
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("gateway " + a.url() + " unreachable (Connection refused); trying " + b.url()), std::string::npos)
      << out;
  EXPECT_NE(out.find("every gateway failed: " + a.url() + " (Connection refused), " + b.url() + " (Connection refused)"),
            std::string::npos)
      << out;
  auto nodes = run_shell(hydra_binary() + " nodes --gateway " + a.url() + "," + b.url());
  EXPECT_EQ(nodes.first, 1) << nodes.second;
  EXPECT_NE(nodes.second.find("every gateway failed"), std::string::npos) << nodes.second;
}

// Every sub-command: 0 on success, 1 on failure, 2 on a usage error (never CLI11's 105-109).
TEST(Cli, ExitStatusIsZeroOneOrTwo) {
  const std::string hydra = hydra_binary();
  auto status = [&](const std::string& args) { return run_shell(hydra + " " + args + " >/dev/null 2>&1").first; };
  for (const char* sub : {"serve", "sim", "agent", "diag", "discover", "keys new", "keys hash", "nodes", "models",
                          "generate", "orchestrate", "config check"}) {
    EXPECT_EQ(status(std::string(sub) + " --no-such-flag"), 2) << sub;
    EXPECT_EQ(status(std::string(sub) + " --help"), 0) << sub;
  }
  EXPECT_EQ(status(""), 2);                                      // no sub-command
  EXPECT_EQ(status("no-such-command"), 2);
  EXPECT_EQ(status("--version"), 0);
  // The version, the commit it was built from (or "unknown" outside a repository), the build type
  // and, when the release build used the profile in pgo/, that profile's digest.
  auto version = run_shell(hydra + " --version");
  EXPECT_TRUE(std::regex_search(
      version.second,
      std::regex(R"(^hydra \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}(-dirty)?|unknown), \w+ build(, profile-guided by pgo/ [0-9a-f]{16})?\)\n$)")))
      << version.second;
  EXPECT_EQ(status("sim --vram-gb not-a-number"), 2);              // a value of the wrong kind
  EXPECT_EQ(status("sim --listen 127.0.0.8:99999"), 2);            // a bad address, as the agent's
  EXPECT_EQ(status("agent --listen 127.0.0.8:99999"), 2);
  EXPECT_EQ(status("generate --model m:1b"), 2);                // a required argument missing
  EXPECT_EQ(status("models --gateway http://127.0.0.1:1"), 1);  // nothing listens: a failure
}

// `hydra config example` is a config file `hydra config check` accepts; a bad setting is a
// failure (exit 1) that names it; `hydra serve` refuses it at start-up the same way.
TEST(Cli, ConfigCheckReadsTheExampleAndRefusesABadSetting) {
  const std::string hydra = hydra_binary();
  char dir[] = "/tmp/hydra-config-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string example = std::string(dir) + "/hydra.toml", bad = std::string(dir) + "/bad.toml";
  ASSERT_EQ(run_shell(hydra + " config example >" + example).first, 0);
  auto checked = run_shell("env -u HYDRA_CONFIG HYDRA_THREADS=3 " + hydra + " config check " + example);
  EXPECT_EQ(checked.first, 0) << checked.second;
  EXPECT_TRUE(std::regex_search(checked.second, std::regex(R"(
threads = 3 +# environment HYDRA_THREADS
)"))) << checked.second;
  EXPECT_TRUE(std::regex_search(checked.second, std::regex(R"(
log\.access = "text" +# default
)"))) << checked.second;
  ASSERT_EQ(run_shell("printf 'log.access = \"loud\"\n' >" + bad).first, 0);
  auto refused = run_shell(hydra + " config check " + bad + " 2>&1");
  EXPECT_EQ(refused.first, 1);
  EXPECT_NE(refused.second.find("setting log.access (" + bad + "): bad value \"loud\""), std::string::npos) << refused.second;
  auto serve = run_shell(hydra + " serve --no-discovery --listen 127.0.0.1:0 --config " + bad + " 2>&1");
  EXPECT_EQ(serve.first, 2) << serve.second;
  EXPECT_NE(serve.second.find("setting log.access"), std::string::npos) << serve.second;
  std::filesystem::remove_all(dir);
}

// A taken port stops start-up, the dashboard's as the API's: exit 1 and a sentence that says
// which port and what to do.
TEST(Cli, APortThatIsTakenStopsStartUp) {
  const std::string hydra = hydra_binary();
  Process holder({hydra, "sim", "--listen", "127.0.0.1:0"});
  const std::string taken = printed_address(holder, "http://");
  ASSERT_FALSE(taken.empty());
  char dir[] = "/tmp/hydra-cli-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  const std::string serve = hydra + " serve --no-discovery --data-dir " + dir + " --node http://" + taken;
  auto dash = run_shell(serve + " --listen 127.0.0.1:0 --dashboard-listen " + taken);
  EXPECT_EQ(dash.first, 1) << dash.second;
  EXPECT_NE(dash.second.find("dashboard: cannot listen on " + taken), std::string::npos) << dash.second;
  EXPECT_NE(dash.second.find("HYDRA_DASHBOARD=false"), std::string::npos) << dash.second;
  auto api = run_shell(serve + " --listen " + taken);
  EXPECT_EQ(api.first, 1) << api.second;
  EXPECT_NE(api.second.find("cannot listen on " + taken), std::string::npos) << api.second;
  std::filesystem::remove_all(dir);
}

// A gateway on several threads shares its port among its own threads (SO_REUSEPORT); a second
// gateway started on that port must still fail, not join the first and take part of its traffic.
TEST(Cli, ASecondGatewayDoesNotShareTheFirstsPort) {
  const std::string hydra = hydra_binary();
  Process node({hydra, "sim", "--listen", "127.0.0.1:0"});
  const std::string node_at = "http://" + printed_address(node, "http://");
  ASSERT_NE(node_at, "http://");
  char dir[] = "/tmp/hydra-cli-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  const std::string data = dir;
  Process first({hydra, "serve", "--no-discovery", "--threads", "2", "--listen", "127.0.0.1:0", "--data-dir",
                 data + "/first", "--node", node_at},
                {"HYDRA_DASHBOARD=false"});
  const std::string taken = printed_address(first, "Ollama API on http://");
  ASSERT_FALSE(taken.empty());
  for (const char* threads : {"2", "1"}) {
    // (timeout: a second gateway that did start would serve until stopped)
    auto second = run_shell("timeout 20 " + hydra + " serve --no-discovery --threads " + threads + " --listen " + taken +
                            " --data-dir " + data + "/second --node " + node_at + " 2>&1");
    EXPECT_EQ(second.first, 1) << threads << " threads: " << second.second;
    EXPECT_NE(second.second.find("cannot listen on " + taken), std::string::npos) << second.second;
  }
  std::filesystem::remove_all(dir);
}

// `hydra discover` finds the nodes, and names a Hydra gateway as one instead of listing it as
// a node (a gateway that took itself for a node would send requests round in a loop).
TEST(Cli, DiscoverTakesPortListsAndSkipsGateways) {
  Fleet f;
  f.add_sim("a", {"--model", "x:1b=1"});
  f.start_gateway();
  const uint16_t sim_port = f.sim(0).endpoint.port(), gw_port = f.gateway().port(), dash_port = f.dashboard().port();
  // The dashboard's port answers /health as a llama-server would, and is a gateway all the same.
  auto [status, out] = run_shell(fmt::format("{} discover 127.0.0.1/32 --port {},{} --port {} --json", hydra_binary(),
                                             std::min(sim_port, gw_port), std::max(sim_port, gw_port), dash_port));
  ASSERT_EQ(status, 0) << out;
  auto report = boost::json::parse(out.substr(out.find('{')));
  ASSERT_EQ(report.at("nodes").as_array().size(), 1u) << out;
  EXPECT_EQ(report.at("nodes").at(0).at("url").as_string(), fmt::format("http://127.0.0.1:{}", sim_port)) << out;
  std::set<std::string> gateways;
  for (const auto& g : report.at("gateways").as_array()) gateways.insert(std::string(g.as_string()));
  EXPECT_EQ(gateways, (std::set<std::string>{fmt::format("127.0.0.1:{}", gw_port), fmt::format("127.0.0.1:{}", dash_port)}))
      << out;
  auto range = run_shell(fmt::format("{} discover 127.0.0.1/32 --port {}-{}", hydra_binary(), sim_port, sim_port));
  EXPECT_EQ(range.first, 0) << range.second;
  EXPECT_NE(range.second.find(fmt::format("http://127.0.0.1:{}", sim_port)), std::string::npos) << range.second;
}
