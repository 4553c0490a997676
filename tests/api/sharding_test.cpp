// Sharding a model no node can hold (issue #21), end to end without llama.cpp: `hydra sim
// --rpc-server` processes stand in for rpc-servers, a `hydra agent` starts
// tests/fixtures/fake-llama-server (which checks its arguments, then runs `hydra sim --kind
// llama-server --rpc ...` and exits when one of its rpc-servers goes away, as llama-server
// aborts).
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <atomic>
#include <gtest/gtest.h>
#include <sstream>
#include <thread>
#include <stdlib.h>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

struct Rpc {
  std::string id;
  std::unique_ptr<Process> process;
};

Rpc rpc_server(const std::vector<std::string>& devices) {
  std::vector<std::string> argv{hydra_binary(), "sim", "--rpc-server", "--listen", "127.0.0.1:0"};
  for (const auto& d : devices) {
    argv.push_back("--rpc-device");
    argv.push_back(d);
  }
  Rpc r;
  r.process = std::make_unique<Process>(argv);
  auto line = r.process->wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; }, seconds(10));
  if (!line) throw std::runtime_error("rpc-server sim did not start");
  r.id = line->substr(line->rfind(' ') + 1);
  return r;
}

json::object sharded(const Fleet& f) {
  auto doc = json::parse(get(f.gateway(), "/nodes").body);
  return doc.at("sharded").at(0).as_object();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Sharding, ServedOverTheLargestRpcServersRestartedWhenOneDiesAndA503WhenTooLittleIsLeft) {
  Fleet f;
  f.add_sim("plain", {"--model", "small:1b=1", "--load-seconds", "0"});
  // Free memory 40, 40 (two devices), 35 and 10 GB; the model needs 70 + 1 (KV cache).
  Rpc a = rpc_server({"40/48"}), b = rpc_server({"20/24", "20/24"}), c = rpc_server({"35/40"}), d = rpc_server({"10/12"});
  char scratch_template[] = "/tmp/hydra-shard-XXXXXX";
  const std::string scratch = ::mkdtemp(scratch_template);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{scratch};
  const std::string gguf = scratch + "/big.gguf", log = scratch + "/fake-llama-server.log";
  {
    std::ofstream g(gguf, std::ios::binary);
    g.write("GGUF\x03\0\0\0", 8);
    g << std::string(64, '\0');
  }
  Process agent({hydra_binary(), "agent", "--listen", "127.0.0.1:0", "--llama-server", HYDRA_FIXTURES_DIR "/fake-llama-server",
                 "--token", "t0ken", "--interval-ms", "200"},
                {"HYDRA_BIN=" + hydra_binary(), "FAKE_LLAMA_SERVER_LOG=" + log, "FAKE_LLAMA_SERVER_SIZE_GB=70",
                 "FAKE_LLAMA_SERVER_TPS=15"});
  auto agent_line = agent.wait_for_line([](const std::string& l) { return l.find("agent listening on") != std::string::npos; }, seconds(10));
  ASSERT_TRUE(agent_line);
  const std::string agent_url = agent_line->substr(agent_line->find("http://"));
  const std::string config = scratch + "/hydra.toml";
  {
    std::ofstream out(config);
    out << fmt::format("[[sharded]]\nmodel = \"giant\"\ngguf = \"{}\"\nsize_gb = 70\ncoordinator = \"{}\"\n"
                     "rpc = [\"{}\", \"{}\", \"{}\", \"{}\"]\nctx = 2048\nkeep_alive_s = 600\n",
                     gguf, agent_url, a.id, b.id, c.id, d.id);
  }
  f.start_gateway({"HYDRA_REGISTRATION_TOKEN=t0ken"}, {"--config", config});
  EXPECT_EQ(sharded(f).at("state"), "stopped") << "started on the first request, not before";
  // Listed already, so that clients see it.
  EXPECT_NE(get(f.gateway(), "/api/tags").body.find(R"("name":"giant:latest")"), std::string::npos);
  EXPECT_NE(get(f.gateway(), "/v1/models").body.find(R"("id":"giant:latest")"), std::string::npos);

  // The first request waits while the coordinator starts over the two with the most memory.
  auto first = post(f.gateway(), "/api/generate", R"({"model":"giant","prompt":"hello","stream":false})");
  ASSERT_EQ(first.status, 200) << first.body << f.gateway_log();
  auto s = sharded(f);
  EXPECT_EQ(s.at("state"), "ready");
  EXPECT_EQ(s.at("rpc_servers"), (json::array{json::value(a.id), json::value(b.id)})) << s;
  EXPECT_EQ(first.headers["x-hydra-node"], std::string(s.at("node").as_string()));
  std::string args = read_file(log);
  EXPECT_NE(args.find(fmt::format("--rpc {},{}", a.id, b.id)), std::string::npos) << args;
  // Proportional to free memory, one share per device: a (40 GB), then b's two (20 GB each).
  EXPECT_NE(args.find("--tensor-split 0.5000,0.2500,0.2500"), std::string::npos) << args;
  EXPECT_NE(args.find("--alias giant:latest"), std::string::npos) << args;
  EXPECT_NE(args.find("-c 2048"), std::string::npos) << args;
  // The routing log says what was done for it.
  EXPECT_NE(get(f.gateway(), "/routing").body.find(fmt::format("sharded: coordinator {} started over {}, {}",
                                                              std::string(s.at("node").as_string()), a.id, b.id)),
            std::string::npos) << get(f.gateway(), "/routing").body;
  auto rpc = json::parse(get(f.gateway(), "/nodes").body).at("rpc_servers").as_array();
  for (const auto& r : rpc)
    if (r.at("address") == json::value(a.id)) EXPECT_EQ(r.at("in_use_by"), "giant:latest") << r;
  auto metrics = get(f.gateway(), "/metrics").body;
  EXPECT_NE(metrics.find("hydra_shard_coordinator_up{model=\"giant:latest\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find(fmt::format("hydra_rpc_server_in_use{{server=\"{}\"}} 1", a.id)), std::string::npos);

  // rpc-server a dies while a reply streams: the coordinator aborts, comes back over b and c
  // (75 GB), and the stream goes on there (the client sees one whole reply).
  std::atomic<bool> streaming{false};
  HttpCall stream;
  stream.method = "POST";
  stream.target = "/api/chat";
  stream.body = R"({"model":"giant","messages":[{"role":"user","content":"a long story please"}]})";
  stream.timeout = seconds(40);
  stream.on_data = [&](std::string_view) {
    streaming = true;
    return true;
  };
  HttpReply streamed;
  std::thread client([&] { streamed = request(f.gateway(), stream); });
  ASSERT_TRUE(wait_for([&] { return streaming.load(); }, seconds(10)));
  a.process->kill_now();
  client.join();
  EXPECT_EQ(streamed.status, 200);
  EXPECT_NE(streamed.body.find("\"done\":true"), std::string::npos) << streamed.body;
  EXPECT_EQ(streamed.body.find("\"error\""), std::string::npos) << streamed.body;
  // It went on where it broke off (the new coordinator continued the assistant's text), not
  // again from the start: the reply begins with the server's name once.
  std::string text;
  std::istringstream lines(streamed.body);
  for (std::string l; std::getline(lines, l);)
    if (!l.empty()) text += json::parse(l).at("message").at("content").as_string();
  EXPECT_EQ(text.find("llama-server:"), 0u) << text;
  EXPECT_EQ(text.find("llama-server:", 1), std::string::npos) << text;
  ASSERT_TRUE(wait_for([&] {
    auto now = sharded(f);
    return now.at("restarts") == json::value(1) && now.at("state") == json::value("ready");
  }, seconds(30))) << sharded(f) << f.gateway_log();
  s = sharded(f);
  EXPECT_EQ(s.at("rpc_servers"), (json::array{json::value(b.id), json::value(c.id)})) << s;
  auto again = post(f.gateway(), "/api/chat", R"({"model":"giant","messages":[{"role":"user","content":"hi"}],"stream":false})");
  EXPECT_EQ(again.status, 200) << again.body;
  args = read_file(log);
  EXPECT_NE(args.find(fmt::format("--rpc {},{} --tensor-split 0.2667,0.2667,0.4667", b.id, c.id)), std::string::npos) << args;

  // b dies too: c and d hold 45 GB, too little. A clear 503, and the reason in /nodes.
  b.process->kill_now();
  ASSERT_TRUE(wait_for([&] { return sharded(f).at("state") == json::value("failed"); }, seconds(30))) << sharded(f);
  auto refused = post(f.gateway(), "/api/generate", R"({"model":"giant","prompt":"hello","stream":false})");
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("cannot hold the model"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("71.0 GB"), std::string::npos) << refused.body;
  EXPECT_NE(get(f.gateway(), "/routing").body.find("cannot hold the model"), std::string::npos) << "refusals are logged too";
  // Plain models are untouched by all this.
  EXPECT_EQ(post(f.gateway(), "/api/generate", R"({"model":"small:1b","prompt":"x","stream":false})").status, 200);
}

TEST(Sharding, TheAgentStartsOnlyItsOwnBinaryAndOnlyWithTheToken) {
  Process agent({hydra_binary(), "agent", "--listen", "127.0.0.1:0", "--llama-server", HYDRA_FIXTURES_DIR "/fake-llama-server",
                 "--token", "t0ken", "--interval-ms", "200"});
  auto line = agent.wait_for_line([](const std::string& l) { return l.find("agent listening on") != std::string::npos; }, seconds(10));
  ASSERT_TRUE(line);
  const Endpoint ep = endpoint_from_url(*line);
  const std::string body = R"({"model":"m","gguf":"/etc/hostname"})";
  EXPECT_EQ(call(ep, "POST", "/hydra/agent/llama-server", body).status, 401);
  EXPECT_EQ(call(ep, "POST", "/hydra/agent/llama-server", body, {{"Authorization", "Bearer nope"}}).status, 401);
  auto not_gguf = call(ep, "POST", "/hydra/agent/llama-server", body, {{"Authorization", "Bearer t0ken"}});
  EXPECT_EQ(not_gguf.status, 400);
  EXPECT_NE(not_gguf.body.find("not a GGUF file"), std::string::npos) << not_gguf.body;
  auto option = call(ep, "POST", "/hydra/agent/llama-server", R"({"model":"--rm","gguf":"/x.gguf"})",
                     {{"Authorization", "Bearer t0ken"}});
  EXPECT_EQ(option.status, 400) << "a name that looks like an option is refused";
  auto bad_rpc = call(ep, "POST", "/hydra/agent/llama-server", R"({"model":"m","gguf":"/x.gguf","rpc":["a b:1"]})",
                      {{"Authorization", "Bearer t0ken"}});
  EXPECT_EQ(bad_rpc.status, 400);
  // Without --token the launcher is off.
  Process open({hydra_binary(), "agent", "--listen", "127.0.0.1:0", "--llama-server", "/bin/true", "--interval-ms", "200"});
  auto open_line = open.wait_for_line([](const std::string& l) { return l.find("agent listening on") != std::string::npos; }, seconds(10));
  ASSERT_TRUE(open_line);
  EXPECT_EQ(call(endpoint_from_url(*open_line), "POST", "/hydra/agent/llama-server", body).status, 403);
}

}  // namespace
