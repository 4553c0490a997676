// tests/fixtures/fake-llama-server: llama-server's flags checked (exit 2 with a reason), the
// argument line logged, and a good line turned into a llama-server sim that answers /health.
#include "support/http_client.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <sstream>

using namespace hydra::test;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

const std::string kScript = std::string(HYDRA_FIXTURES_DIR) + "/fake-llama-server";

class FakeLlamaServer : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fake-llama-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    gguf_ = (dir_ / "tiny-q4.gguf").string();
    std::ofstream(gguf_, std::ios::binary) << std::string("GGUF\x03\0\0\0", 8) << std::string(1000, '\0');
    other_ = (dir_ / "not-a-model.gguf").string();
    std::ofstream(other_) << "hello";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the script to its end (it must fail: a good line would become a server).
  std::pair<int, std::string> run(const std::string& args) {
    return run_shell("HYDRA_BIN=/bin/false FAKE_LLAMA_SERVER_LOG=" + log() + " " + kScript + " " + args);
  }
  std::string log() const { return (dir_ / "args.log").string(); }
  std::string good(const std::string& extra = "") const {
    return "-m " + gguf_ + " --alias tiny --host 127.0.0.1 --port 0 --parallel 2 -c 2048 -ngl 999" + extra;
  }

  fs::path dir_;
  std::string gguf_, other_;
};

}  // namespace

TEST_F(FakeLlamaServer, RejectsBadArgumentsWithExit2) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {good(" --rpc 127.0.0.1:50052,127.0.0.1:50053 --tensor-split 1"), "1 entries for 2 rpc-servers"},
      {good(" --rpc 127.0.0.1:50052 --tensor-split 1,x"), "is not a number"},
      {good(" --rpc localhost --tensor-split 1"), "is not HOST:PORT"},
      {good(" --flash-attn"), "unknown argument: --flash-attn"},
      {"-m " + other_ + " --port 8080", "not a GGUF file"},
      {"-m " + (dir_ / "missing.gguf").string(), "no such file"},
      {"-m " + gguf_ + " --port http", "not a port number"},
      {"--port 8080", "-m PATH is required"},
      {"-m " + gguf_ + " --alias", "--alias needs a value"},
  };
  for (const auto& [args, why] : cases) {
    auto [status, out] = run(args);
    EXPECT_EQ(status, 2) << args << "\n" << out;
    EXPECT_NE(out.find(why), std::string::npos) << args << "\n" << out;
  }
  // Every line was logged as given, bad ones too.
  std::ifstream in(log());
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, cases[0].first);
}

TEST_F(FakeLlamaServer, GoodLineBecomesALlamaServerSim) {
  // One more split entry than rpc-servers (the host's own device) is accepted too.
  const std::string args = good(" --tensor-split 1");
  Process server({"/bin/bash", "-c", "exec " + kScript + " " + args},
                 {"HYDRA_BIN=" + hydra_binary(), "FAKE_LLAMA_SERVER_LOG=" + log(), "FAKE_LLAMA_SERVER_SIZE_GB=1.5",
                  "FAKE_LLAMA_SERVER_LOAD_SECONDS=0.2"});
  auto line = server.wait_for_line([](const std::string& l) { return l.find(" listening on http://") != std::string::npos; },
                                   seconds(10));
  ASSERT_TRUE(line) << "no listening line";
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*line, m, std::regex(R"(127\.0\.0\.1:(\d+)$)"))) << *line;
  const Endpoint ep(boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(std::stoi(m[1])));
  ASSERT_TRUE(wait_for([&] { return get(ep, "/health").status == 200; }, seconds(5)));
  auto models = boost::json::parse(get(ep, "/v1/models").body);
  EXPECT_EQ(models.at("data").at(0).at("id"), "tiny");
  EXPECT_EQ(models.at("data").at(0).at("meta").at("size").to_number<uint64_t>(), 1'500'000'000u);
  auto props = boost::json::parse(get(ep, "/props").body);
  EXPECT_EQ(props.at("total_slots").to_number<int>(), 2);
  EXPECT_EQ(props.at("model_path").as_string(), gguf_);
  EXPECT_EQ(props.at("default_generation_settings").at("n_ctx").to_number<int>(), 2048);
  std::ifstream in(log());
  std::string logged;
  std::getline(in, logged);
  EXPECT_EQ(logged, args);
}
