// The emulator over HTTP, in-process: streaming, slots, loads, keep_alive, errors, faults.
#include "sim/runner.hpp"
#include "support/sim_harness.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <set>
#include <future>
#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

sim::NodeConfig base_config() {
  sim::NodeConfig c;
  c.name = "alpha";
  c.models = {{"llama3.2:3b", 2.0}, {"qwen2.5-coder:7b", 4.7}, {"nomic-embed-text", 0.3}};
  c.loaded = {"llama3.2:3b"};
  c.tokens_per_second = 400;
  c.load_seconds = 0.05;
  return c;
}

std::string generate_body(std::string model, std::string prompt, bool stream = true,
                          std::string extra = "") {
  return fmt::format(R"({{"model":"{}","prompt":"{}","stream":{}{}}})", model, prompt,
                     stream ? "true" : "false", extra);
}

int64_t stat(const SimHarness& sim, const char* key) { return sim.stats().at(key).to_number<int64_t>(); }

}  // namespace

TEST(SimNode, StreamIsIncrementalAndEndsWithMetrics) {
  auto config = base_config();
  config.tokens_per_second = 40;  // 25 ms a token
  SimHarness sim(config);
  std::vector<steady_clock::time_point> arrivals;
  HttpCall c;
  c.method = "POST";
  c.target = "/api/generate";
  c.body = generate_body("llama3.2:3b", "tell me a story");
  c.on_data = [&](std::string_view) { arrivals.push_back(steady_clock::now()); return true; };
  auto r = request(sim.endpoint(), c);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/x-ndjson");
  auto lines = ndjson(r.body);
  ASSERT_GE(lines.size(), 10u);
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_FALSE(lines[i].at("done").as_bool());
    text += lines[i].at("response").as_string();
  }
  EXPECT_EQ(text.rfind("alpha:", 0), 0u) << text;
  const auto& last = lines.back().as_object();
  EXPECT_TRUE(last.at("done").as_bool());
  EXPECT_EQ(last.at("done_reason"), "stop");
  EXPECT_EQ((last.at("eval_count").to_number<std::size_t>()), lines.size() - 1);
  for (const char* k : {"total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_duration"})
    EXPECT_TRUE(last.contains(k)) << k;
  // Incremental: pieces arrived spread over the generation, not in one burst at the end.
  ASSERT_GE(arrivals.size(), 5u);
  EXPECT_GT(arrivals.back() - arrivals.front(), milliseconds(100));
}

TEST(SimNode, NonStreamedIsOneObjectAndNumPredictLimits) {
  SimHarness sim(base_config());
  auto r = post(sim.endpoint(), "/api/generate",
                generate_body("llama3.2:3b", "hi", false, R"(,"options":{"num_predict":3})"));
  ASSERT_EQ(r.status, 200);
  auto v = json::parse(r.body).as_object();
  EXPECT_TRUE(v.at("done").as_bool());
  EXPECT_EQ(v.at("done_reason"), "length");
  EXPECT_EQ(v.at("eval_count").to_number<int>(), 3);
  EXPECT_EQ(std::string(v.at("response").as_string()).rfind("alpha", 0), 0u);
}

TEST(SimNode, ChatStreamsAssistantMessages) {
  SimHarness sim(base_config());
  auto r = post(sim.endpoint(), "/api/chat",
                R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hello"}]})");
  ASSERT_EQ(r.status, 200);
  auto lines = ndjson(r.body);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("message").at("role"), "assistant");
  EXPECT_EQ(lines[0].at("message").at("content"), "alpha");
  EXPECT_TRUE(lines.back().at("done").as_bool());
}

TEST(SimNode, ErrorsInOllamasWords) {
  SimHarness sim(base_config());
  auto unknown = post(sim.endpoint(), "/api/generate", generate_body("nope", "x"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, R"({"error":"model \"nope\" not found, try pulling it first"})");
  auto missing = post(sim.endpoint(), "/api/chat", R"({"messages":[]})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body, R"({"error":"model is required"})");
  auto empty = post(sim.endpoint(), "/api/generate", "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.body, R"({"error":"missing request body"})");
  auto bad = post(sim.endpoint(), "/api/generate", "{not json");
  EXPECT_EQ(bad.status, 400);
  auto wrong_type = post(sim.endpoint(), "/api/generate", R"({"model":"llama3.2:3b","prompt":"x","stream":"yes"})");
  EXPECT_EQ(wrong_type.status, 400);
  auto embed_only = post(sim.endpoint(), "/api/generate", generate_body("nomic-embed-text", "x"));
  EXPECT_EQ(embed_only.status, 400);
  auto show = post(sim.endpoint(), "/api/show", R"({"model":"nope"})");
  EXPECT_EQ(show.status, 404);
  EXPECT_EQ(show.body, R"({"error":"model 'nope' not found"})");
}

TEST(SimNode, SlotsLimitConcurrencyAndFullQueueIs503) {
  auto config = base_config();
  config.parallel = 1;
  config.max_queue = 1;
  config.tokens_per_second = 50;
  SimHarness sim(config);
  // The first takes the slot, the second waits in the queue, the third is refused.
  auto first = std::async(std::launch::async, [&] {
    return post(sim.endpoint(), "/api/generate", generate_body("llama3.2:3b", "one", false));
  });
  ASSERT_TRUE(wait_for([&] { return stat(sim, "active") == 1; }, seconds(5)));
  auto second = std::async(std::launch::async, [&] {
    return post(sim.endpoint(), "/api/generate", generate_body("llama3.2:3b", "two", false));
  });
  ASSERT_TRUE(wait_for([&] { return stat(sim, "waiting") == 1; }, seconds(5)));
  auto third = post(sim.endpoint(), "/api/generate", generate_body("llama3.2:3b", "three", false));
  EXPECT_EQ(third.status, 503);
  EXPECT_EQ(third.body,
            R"({"error":"server busy, please try again.  maximum pending requests exceeded"})");
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(second.get().status, 200);
  EXPECT_EQ(stat(sim, "max_concurrent"), 1);
  EXPECT_EQ(stat(sim, "rejected"), 1);
}

TEST(SimNode, ColdLoadIsReportedAndLoadUnloadRequests) {
  auto config = base_config();
  config.load_seconds = 0.2;
  SimHarness sim(config);
  auto load = json::parse(post(sim.endpoint(), "/api/generate", R"({"model":"qwen2.5-coder:7b"})").body);
  EXPECT_EQ(load.at("done_reason"), "load");
  auto ps = sim.get_json("/api/ps").at("models").as_array();
  EXPECT_EQ(ps.size(), 2u);
  auto first = json::parse(post(sim.endpoint(), "/api/generate", generate_body("qwen2.5-coder:7b", "x", false)).body);
  EXPECT_LT(first.at("load_duration").to_number<int64_t>(), 100'000'000);  // already loaded
  auto unload = json::parse(post(sim.endpoint(), "/api/generate",
                                 R"({"model":"qwen2.5-coder:7b","keep_alive":0})").body);
  EXPECT_EQ(unload.at("done_reason"), "unload");
  EXPECT_EQ(sim.get_json("/api/ps").at("models").as_array().size(), 1u);
  // Loading again takes the configured load time.
  auto cold = json::parse(post(sim.endpoint(), "/api/generate", generate_body("qwen2.5-coder:7b", "x", false)).body);
  EXPECT_GE(cold.at("load_duration").to_number<int64_t>(), 200'000'000);
  EXPECT_EQ(stat(sim, "loads"), 3);  // llama at start, qwen twice
}

TEST(SimNode, EvictionAndPartialOffloadShowInPs) {
  auto config = base_config();
  config.vram_gb = 5;
  config.loaded = {};
  config.models = {{"a:3b", 3}, {"b:3b", 3}, {"big:14b", 8}};
  SimHarness sim(config);
  post(sim.endpoint(), "/api/generate", R"({"model":"a:3b"})");
  post(sim.endpoint(), "/api/generate", R"({"model":"b:3b"})");
  auto ps = sim.get_json("/api/ps").at("models").as_array();
  ASSERT_EQ(ps.size(), 1u) << json::serialize(ps);
  EXPECT_EQ(ps[0].at("name"), "b:3b");
  EXPECT_EQ(stat(sim, "evictions"), 1);
  post(sim.endpoint(), "/api/generate", R"({"model":"big:14b"})");
  ps = sim.get_json("/api/ps").at("models").as_array();
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].at("size").to_number<uint64_t>(), 8'000'000'000u);
  EXPECT_EQ(ps[0].at("size_vram").to_number<uint64_t>(), 5'000'000'000u);  // partial offload
}

TEST(SimNode, PullCopyDeleteChangeTheCatalogue) {
  SimHarness sim(base_config());
  auto pull = post(sim.endpoint(), "/api/pull", R"({"model":"qwen3:1.7b"})");
  ASSERT_EQ(pull.status, 200);
  auto steps = ndjson(pull.body);
  EXPECT_EQ(steps.front().at("status"), "pulling manifest");
  EXPECT_EQ(steps.back().at("status"), "success");
  auto names = [&] {
    std::set<std::string> out;
    json::value tags = sim.get_json("/api/tags");
    for (auto& m : tags.at("models").as_array()) out.insert(std::string(m.at("name").as_string()));
    return out;
  };
  EXPECT_TRUE(names().count("qwen3:1.7b"));
  EXPECT_EQ(post(sim.endpoint(), "/api/copy", R"({"source":"qwen3:1.7b","destination":"mine"})").status, 200);
  EXPECT_TRUE(names().count("mine:latest"));
  HttpCall del;
  del.method = "DELETE";
  del.target = "/api/delete";
  del.body = R"({"model":"mine"})";
  EXPECT_EQ(request(sim.endpoint(), del).status, 200);
  EXPECT_FALSE(names().count("mine:latest"));
  EXPECT_EQ(request(sim.endpoint(), del).status, 404);
}

TEST(SimNode, EmbeddingsBothEndpoints) {
  SimHarness sim(base_config());
  auto r = json::parse(post(sim.endpoint(), "/api/embed",
                            R"({"model":"nomic-embed-text","input":["a cat","a dog","a cat"]})").body);
  auto& e = r.at("embeddings").as_array();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], e[2]);
  EXPECT_EQ(e[0].as_array().size(), 384u);
  auto legacy = json::parse(post(sim.endpoint(), "/api/embeddings", R"({"model":"nomic-embed-text","prompt":"a cat"})").body);
  EXPECT_EQ(legacy.at("embedding"), e[0]);
}

TEST(SimNode, AClientThatLeavesTheQueueGivesUpItsPlace) {
  auto config = base_config();
  config.parallel = 1;
  config.max_queue = 1;
  config.tokens_per_second = 20;
  SimHarness sim(config);
  auto first = std::async(std::launch::async, [&] {
    return post(sim.endpoint(), "/api/generate", generate_body("llama3.2:3b", "one", false));
  });
  ASSERT_TRUE(wait_for([&] { return stat(sim, "active") == 1; }, seconds(5)));
  HttpCall leaver;
  leaver.method = "POST";
  leaver.target = "/api/generate";
  leaver.body = generate_body("llama3.2:3b", "gives up", false);
  leaver.timeout = milliseconds(200);  // leaves while queued behind "one"
  EXPECT_EQ(request(sim.endpoint(), leaver).status, 0);
  EXPECT_TRUE(wait_for([&] { return stat(sim, "waiting") == 0; }, seconds(5))) << "its place was given up";
  EXPECT_EQ(stat(sim, "active"), 1);
  // So the one place in the queue is free again: the next request waits there, not a 503.
  auto next = post(sim.endpoint(), "/api/generate", generate_body("llama3.2:3b", "next", false));
  EXPECT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(stat(sim, "rejected"), 0);
  EXPECT_EQ(stat(sim, "cancelled"), 1);
  EXPECT_EQ(stat(sim, "generations"), 2);  // "gives up" never generated
}

TEST(SimNode, ClientThatLeavesStopsTheGeneration) {
  auto config = base_config();
  config.tokens_per_second = 20;
  SimHarness sim(config);
  int pieces = 0;
  HttpCall c;
  c.method = "POST";
  c.target = "/api/generate";
  c.body = generate_body("llama3.2:3b", "a long answer please");
  c.on_data = [&](std::string_view) { return ++pieces < 2; };
  request(sim.endpoint(), c);
  EXPECT_TRUE(wait_for([&] { return stat(sim, "cancelled") == 1; }, seconds(5)));
  EXPECT_EQ(stat(sim, "completed"), 0);
  EXPECT_EQ(stat(sim, "active"), 0);  // the slot was freed
}

TEST(SimNode, FaultsErrorCutRefuseAndRecover) {
  SimHarness sim(base_config());
  auto gen = [&] { return post(sim.endpoint(), "/api/generate", generate_body("llama3.2:3b", "x")); };
  ASSERT_EQ(post(sim.endpoint(), "/_sim/fault", R"({"mode":"error500","count":1})").status, 200);
  auto failed = gen();
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.body, R"({"error":"simulated failure"})");
  EXPECT_EQ(gen().status, 200);  // the counted fault is used up

  post(sim.endpoint(), "/_sim/fault", R"({"mode":"cut","after_chunks":2})");
  auto cut = gen();
  EXPECT_FALSE(cut.complete);
  EXPECT_EQ(ndjson(cut.body.substr(0, cut.body.rfind('\n') + 1)).size(), 2u);

  post(sim.endpoint(), "/_sim/fault", R"({"mode":"refuse","for_ms":300})");
  EXPECT_EQ(get(sim.endpoint(), "/api/version").status, 0);  // connection refused
  EXPECT_TRUE(wait_for([&] { return get(sim.endpoint(), "/api/version").status == 200; }, seconds(5)));
  EXPECT_GE(stat(sim, "faults"), 2);
  EXPECT_EQ(post(sim.endpoint(), "/_sim/fault", R"({"mode":"explode"})").status, 400);
}

TEST(SimNode, HangHoldsTheRequestUntilTheClientGivesUp) {
  SimHarness sim(base_config());
  post(sim.endpoint(), "/_sim/fault", R"({"mode":"hang","count":1})");
  HttpCall c;
  c.method = "POST";
  c.target = "/api/generate";
  c.body = generate_body("llama3.2:3b", "x");
  c.timeout = milliseconds(300);
  auto r = request(sim.endpoint(), c);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(get(sim.endpoint(), "/api/version").status, 200);  // the node itself still answers
}

TEST(SimNode, ScriptedReplies) {
  auto book = std::make_shared<sim::ReplyBook>(
      sim::ReplyBook::from_json_text(R"({"capital of France": "Paris."})"));
  SimHarness sim(base_config(), book);
  auto r = json::parse(post(sim.endpoint(), "/api/generate",
                            generate_body("llama3.2:3b", "What is the capital of France?", false)).body);
  EXPECT_EQ(r.at("response"), "Paris.");
}

TEST(SimNode, ScriptedToolCallsWhenTheToolIsOffered) {
  auto book = std::make_shared<sim::ReplyBook>(sim::ReplyBook::from_json_text(
      R"([{"match": "weather", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}])"));
  SimHarness sim(base_config(), book);
  const std::string tools = R"("tools":[{"type":"function","function":{"name":"get_weather"}}])";
  auto chat = [&](const std::string& messages, bool stream, const std::string& extra) {
    return post(sim.endpoint(), "/api/chat",
                fmt::format(R"({{"model":"llama3.2:3b","messages":{},"stream":{}{}}})", messages,
                            stream ? "true" : "false", extra));
  };
  const std::string ask = R"([{"role":"user","content":"the weather in Paris?"}])";
  const json::value expected = json::parse(R"([{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}])");

  auto whole = json::parse(chat(ask, false, "," + tools).body);
  EXPECT_EQ(whole.at("message").at("tool_calls"), expected);
  EXPECT_EQ(whole.at("message").at("content"), "");
  EXPECT_GT(whole.at("eval_count").as_int64(), 0);

  // Streamed: the calls in one chunk, then the final one.
  auto lines = ndjson(chat(ask, true, "," + tools).body);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("message").at("tool_calls"), expected);
  EXPECT_EQ(lines[0].at("done"), false);
  EXPECT_EQ(lines[1].at("done"), true);

  // Not offered, or answering the call's result: words.
  EXPECT_FALSE(json::parse(chat(ask, false, "").body).at("message").as_object().contains("tool_calls"));
  const std::string answered = R"([{"role":"user","content":"the weather in Paris?"},
      {"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},
      {"role":"tool","content":"sunny","tool_name":"get_weather"}])";
  auto words = json::parse(chat(answered, false, "," + tools).body);
  EXPECT_FALSE(words.at("message").as_object().contains("tool_calls"));
  EXPECT_EQ(std::string(words.at("message").at("content").as_string()).rfind("alpha:", 0), 0u);
}

TEST(SimRunner, ExpandsNodesOnPortsOrAddresses) {
  sim::RunOptions o;
  o.node.name = "n";
  o.node.listen = "127.0.0.1:20000";
  o.nodes = 3;
  auto ports = sim::expand_nodes(o);
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_EQ(ports[2].name, "n-3");
  EXPECT_EQ(ports[2].listen, "127.0.0.1:20002");
  o.nodes = 1;
  o.addresses = "127.0.0.2-127.0.0.4";
  auto addrs = sim::expand_nodes(o);
  ASSERT_EQ(addrs.size(), 3u);
  EXPECT_EQ(addrs[0].listen, "127.0.0.2:20000");
  EXPECT_EQ(addrs[2].name, "n-127.0.0.4");
  o.addresses = "127.0.0.9-127.0.0.2";
  EXPECT_THROW(sim::expand_nodes(o), std::runtime_error);
}
