// The client sub-commands as a user runs them: `hydra models`, `hydra generate`,
// `hydra orchestrate` against a running gateway in front of sims.
#include "support/fleet.hpp"

#include <fstream>
#include <gtest/gtest.h>
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
