// llama.cpp llama-server nodes behind the gateway (issue #21): `hydra sim --kind llama-server`
// stands in for one. Found by probing (or configured with #kind=llama-server), listed with
// "node_kind", and served to Ollama and OpenAI clients through the translation.
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <atomic>
#include <sstream>
#include <thread>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

std::vector<json::object> ndjson(const std::string& body) {
  std::vector<json::object> out;
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(json::parse(l).as_object());
  return out;
}

json::object node_of(const Fleet& f, const std::string& id) {
  const json::value doc = json::parse(get(f.gateway(), "/nodes").body);  // (held: a range-for would not keep it)
  for (const auto& n : doc.at("nodes").as_array())
    if (n.at("id") == json::value(id)) return n.as_object();
  return {};
}

TEST(LlamaServerNodes, FoundByProbingListedAndServedToOllamaAndOpenAiClients) {
  Fleet f;
  // (a copy: the fleet's list of sims grows, and references into it dangle)
  const SimProcess& first = f.add_sim("ls", {"--kind", "llama-server", "--model", "big=40", "--alias", "big,huge:70b",
                                             "--parallel", "3", "--load-seconds", "0", "--tokens-per-second", "400"});
  const struct { std::string id; Endpoint endpoint; } llama{first.id, first.endpoint};
  f.add_sim("ol", {"--model", "small:1b=1", "--loaded", "small:1b", "--load-seconds", "0"});
  f.start_gateway();
  ASSERT_TRUE(wait_for([&] { return node_of(f, llama.id)["health"] == json::value("healthy"); }, seconds(10))) << f.gateway_log();
  json::object n = node_of(f, llama.id);
  EXPECT_EQ(n.at("kind"), "llama-server");
  EXPECT_EQ(n.at("slots"), 3) << "its /props total_slots";
  EXPECT_NE(f.gateway_log().find("is a llama.cpp llama-server"), std::string::npos);

  // Listed with both kinds of node's models, the llama-server's marked, aliases included.
  auto tags = json::parse(get(f.gateway(), "/api/tags").body).at("models").as_array();
  std::map<std::string, json::object> by_name;
  for (const auto& t : tags) by_name[std::string(t.at("name").as_string())] = t.as_object();
  ASSERT_TRUE(by_name.count("big:latest")) << json::serialize(tags);
  ASSERT_TRUE(by_name.count("huge:70b"));
  ASSERT_TRUE(by_name.count("small:1b"));
  EXPECT_EQ(by_name["big:latest"].at("node_kind"), "llama-server");
  EXPECT_FALSE(by_name["small:1b"].contains("node_kind"));
  auto ps = json::parse(get(f.gateway(), "/api/ps").body).at("models").as_array();
  EXPECT_TRUE(std::any_of(ps.begin(), ps.end(), [&](const json::value& m) {
    return m.at("name") == json::value("big:latest") && m.at("node") == json::value(llama.id);
  })) << json::serialize(ps);
  auto models = json::parse(get(f.gateway(), "/v1/models").body).at("data").as_array();
  EXPECT_TRUE(std::any_of(models.begin(), models.end(), [](const json::value& m) {
    return m.at("id") == json::value("big:latest") && m.at("node_kind") == json::value("llama-server");
  })) << json::serialize(models);

  // Ollama chat, streamed: NDJSON lines, the last with the counts.
  auto chat = post(f.gateway(), "/api/chat", R"({"model":"huge:70b","messages":[{"role":"user","content":"tell me a story"}],
    "options":{"num_predict":8}})");
  ASSERT_EQ(chat.status, 200) << chat.body;
  EXPECT_EQ(chat.headers["x-hydra-node"], llama.id);
  EXPECT_EQ(chat.headers["content-type"], "application/x-ndjson");
  auto lines = ndjson(chat.body);
  ASSERT_GE(lines.size(), 2u) << chat.body;
  EXPECT_EQ(lines.front().at("message").at("role"), "assistant");
  EXPECT_EQ(lines.back().at("done"), true);
  EXPECT_EQ(lines.back().at("done_reason"), "length") << "num_predict reached the node as max_tokens";
  EXPECT_EQ(lines.back().at("eval_count"), 8);
  EXPECT_GT(lines.back().at("prompt_eval_count").as_int64(), 0);

  // Generate, whole; raw generate through /completion.
  auto gen = post(f.gateway(), "/api/generate", R"({"model":"big","prompt":"hi","stream":false,"options":{"num_predict":4}})");
  ASSERT_EQ(gen.status, 200) << gen.body;
  auto g = json::parse(gen.body).as_object();
  EXPECT_FALSE(g.at("response").as_string().empty());
  EXPECT_EQ(g.at("eval_count"), 4);
  auto raw = post(f.gateway(), "/api/generate", R"({"model":"big","prompt":"<s>hi","raw":true,"stream":false,"options":{"num_predict":3}})");
  ASSERT_EQ(raw.status, 200) << raw.body;
  EXPECT_EQ(json::parse(raw.body).at("eval_count"), 3);
  auto stats = json::parse(get(llama.endpoint, "/_sim/stats").body);
  EXPECT_EQ(stats.at("requests_by_path").at("/completion"), 1) << stats;
  EXPECT_EQ(stats.at("requests_by_path").at("/v1/chat/completions"), 2) << stats;

  // A load request is answered at once (a llama-server holds its model for life).
  auto load = post(f.gateway(), "/api/generate", R"({"model":"big"})");
  ASSERT_EQ(load.status, 200) << load.body;
  EXPECT_EQ(ndjson(load.body).back().at("done_reason"), "load");

  // OpenAI clients get OpenAI's shapes.
  auto oa = post(f.gateway(), "/v1/chat/completions", R"({"model":"big","messages":[{"role":"user","content":"hi"}],"max_tokens":5})");
  ASSERT_EQ(oa.status, 200) << oa.body;
  auto o = json::parse(oa.body);
  EXPECT_EQ(o.at("object"), "chat.completion");
  EXPECT_EQ(o.at("usage").at("completion_tokens"), 5);
  EXPECT_FALSE(o.at("choices").at(0).at("message").at("content").as_string().empty());

  // Ollama-only endpoints are not sent to it: a clear 404 in Ollama's shape.
  auto show = post(f.gateway(), "/api/show", R"({"model":"big"})");
  EXPECT_EQ(show.status, 404);
  EXPECT_NE(json::parse(show.body).at("error").as_string().find("served by a llama.cpp llama-server node"), std::string::npos)
      << show.body;
  EXPECT_EQ(post(f.gateway(), "/api/embed", R"({"model":"big","input":"x"})").status, 404);

  // The Ollama node still serves its own model unchanged.
  auto small = post(f.gateway(), "/api/generate", R"({"model":"small:1b","prompt":"hi","stream":false})");
  EXPECT_EQ(small.status, 200);
  EXPECT_NE(small.headers["x-hydra-node"], llama.id);
}

TEST(LlamaServerNodes, ConfiguredKindBusySlotsAndLoadingAreSeen) {
  Fleet f;
  // Loads for a while: /health says 503 until then, and the node is not routed to.
  const std::string id = f.add_sim("ls", {"--kind", "llama-server", "--model", "big=40", "--parallel", "1", "--load-seconds",
                                          "4", "--tokens-per-second", "20"},
                                    "#kind=llama-server").id;
  const SimProcess& sim = f.sim(0);
  const struct { std::string id; Endpoint endpoint; } llama{id, sim.endpoint};
  f.add_sim("ol", {"--model", "small:1b=1", "--load-seconds", "0"});  // reachable at once, as the harness waits for one
  // Not configured, and loading: recognised by its "Loading model" answer, not failed.
  const std::string found = f.add_sim("ls2", {"--kind", "llama-server", "--model", "other=4", "--load-seconds", "4"}).id;
  f.start_gateway();
  for (const std::string& loading_id : {llama.id, found}) {
    json::object loading = node_of(f, loading_id);
    EXPECT_EQ(loading.at("kind"), "llama-server") << loading;
    EXPECT_EQ(loading.at("health"), "unknown") << loading;
    EXPECT_EQ(loading.at("last_error"), "loading model") << loading;
    EXPECT_EQ(loading.at("ejections"), 0) << loading;
  }
  for (const std::string& loading_id : {llama.id, found})
    ASSERT_TRUE(wait_for([&] { return node_of(f, loading_id)["health"] == json::value("healthy"); }, seconds(15)))
        << f.gateway_log();
  EXPECT_EQ(f.gateway_log().find("node " + llama.id + " is a llama.cpp llama-server"), std::string::npos)
      << "configured, not detected";
  EXPECT_NE(f.gateway_log().find("node " + found + " is a llama.cpp llama-server"), std::string::npos);

  // A slot busy with a slow reply shows in /nodes as the server's own /slots reports it (read
  // with each probe); the client hangs up once it was seen.
  ASSERT_EQ(post(llama.endpoint, "/_sim/fault", R"({"mode":"slow","factor":30,"count":1})").status, 200);
  std::atomic<bool> seen{false};
  HttpCall slow;
  slow.method = "POST";
  slow.target = "/api/chat";
  slow.body = R"({"model":"big","messages":[{"role":"user","content":"go"}],"options":{"num_predict":600}})";
  slow.timeout = seconds(40);
  slow.on_data = [&](std::string_view) { return !seen.load(); };
  std::thread client([&] { request(f.gateway(), slow); });
  EXPECT_TRUE(wait_for([&] { return node_of(f, llama.id)["busy_reported"] == json::value(1); }, seconds(20)))
      << json::serialize(node_of(f, llama.id));
  seen = true;
  client.join();
}

}  // namespace
