// The llama-server sim's generation over HTTP, in-process: /completion and
// /v1/chat/completions, whole and streamed (SSE), include_usage, limits, the prompt cache in
// the counts, and 400 on bad input.
#include "support/sim_harness.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

sim::NodeConfig llama_config() {
  sim::NodeConfig c;
  c.name = "lama";
  c.kind = sim::NodeConfig::Kind::llama_server;
  c.models = {{"tiny", 1.0}};
  c.parallel = 1;
  c.load_seconds = 0;
  c.tokens_per_second = 1000;
  return c;
}

// The JSON of each "data: " event, and whether the stream ended with [DONE].
struct Events {
  std::vector<json::object> objects;
  bool done = false;
};
Events sse(const std::string& body) {
  Events out;
  std::size_t at = 0;
  while (at < body.size()) {
    auto end = body.find("\n\n", at);
    if (end == std::string::npos) end = body.size();
    std::string event = body.substr(at, end - at);
    at = end + 2;
    if (event.empty()) continue;
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
    EXPECT_FALSE(out.done) << "an event after [DONE]";
    if (event == "data: [DONE]") out.done = true;
    else out.objects.push_back(json::parse(event.substr(6)).as_object());
  }
  return out;
}

HttpReply post_stream(const SimHarness& sim, std::string target, std::string body) {
  auto r = post(sim.endpoint(), std::move(target), std::move(body));
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  return r;
}

}  // namespace

TEST(LlamaSimGenerate, CompletionWhole) {
  SimHarness sim(llama_config());
  auto r = post(sim.endpoint(), "/completion", R"({"prompt":"one two three"})");
  ASSERT_EQ(r.status, 200);
  auto v = json::parse(r.body).as_object();
  EXPECT_EQ(std::string(v.at("content").as_string()).rfind("lama:", 0), 0u);
  EXPECT_TRUE(v.at("stop").as_bool());
  EXPECT_EQ(v.at("stop_type"), "eos");
  EXPECT_EQ(v.at("model"), "tiny");
  EXPECT_EQ(v.at("id_slot").to_number<int>(), 0);
  EXPECT_EQ(v.at("tokens_evaluated").to_number<int>(), 4);  // three words and the start token
  const int predicted = v.at("tokens_predicted").to_number<int>();
  EXPECT_GT(predicted, 2);
  const auto& t = v.at("timings").as_object();
  EXPECT_EQ(t.at("predicted_n").to_number<int>(), predicted);
  EXPECT_EQ(t.at("prompt_n").to_number<int>(), 4);
  for (const char* k : {"prompt_ms", "predicted_ms", "predicted_per_second"}) EXPECT_TRUE(t.contains(k)) << k;

  // The same prompt again: the slot's cache holds it (and the reply), one token is evaluated.
  auto again = json::parse(post(sim.endpoint(), "/completion", R"({"prompt":"one two three","n_predict":2})").body);
  EXPECT_EQ(again.at("stop_type"), "limit");
  EXPECT_EQ(again.at("tokens_predicted").to_number<int>(), 2);
  EXPECT_EQ(again.at("timings").at("prompt_n").to_number<int>(), 1);
  EXPECT_EQ(again.at("timings").at("cache_n").to_number<int>(), 3);
  EXPECT_EQ(sim.stats().at("prompt_tokens_reused").to_number<int>(), 3);
}

TEST(LlamaSimGenerate, CompletionStreamed) {
  SimHarness sim(llama_config());
  auto r = post_stream(sim, "/completion", R"({"prompt":"hello there","stream":true,"n_predict":5})");
  ASSERT_EQ(r.status, 200);
  auto events = sse(r.body);
  EXPECT_FALSE(events.done);  // /completion ends without [DONE]
  ASSERT_EQ(events.objects.size(), 6u);
  std::string text;
  for (std::size_t i = 0; i + 1 < events.objects.size(); ++i) {
    EXPECT_FALSE(events.objects[i].at("stop").as_bool());
    text += events.objects[i].at("content").as_string();
  }
  EXPECT_EQ(text.rfind("lama:", 0), 0u);
  const auto& last = events.objects.back();
  EXPECT_TRUE(last.at("stop").as_bool());
  EXPECT_EQ(last.at("content"), "");
  EXPECT_EQ(last.at("stop_type"), "limit");
  EXPECT_EQ(last.at("tokens_predicted").to_number<int>(), 5);
  EXPECT_TRUE(last.contains("timings"));
}

TEST(LlamaSimGenerate, ChatWhole) {
  SimHarness sim(llama_config());
  auto r = post(sim.endpoint(), "/v1/chat/completions",
                R"({"model":"whatever","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]})");
  ASSERT_EQ(r.status, 200);
  auto v = json::parse(r.body).as_object();
  EXPECT_EQ(v.at("object"), "chat.completion");
  EXPECT_EQ(v.at("model"), "whatever");  // echoed, as llama-server does; it serves its one model
  const auto& choice = v.at("choices").at(0);
  EXPECT_EQ(choice.at("finish_reason"), "stop");
  EXPECT_EQ(choice.at("message").at("role"), "assistant");
  EXPECT_EQ(std::string(choice.at("message").at("content").as_string()).rfind("lama:", 0), 0u);
  const auto& usage = v.at("usage");
  EXPECT_EQ(usage.at("prompt_tokens").to_number<int>(), 4);  // "be brief", "hi", the start token
  EXPECT_EQ(usage.at("total_tokens").to_number<int>(),
            usage.at("prompt_tokens").to_number<int>() + usage.at("completion_tokens").to_number<int>());
  EXPECT_TRUE(v.contains("timings"));
}

TEST(LlamaSimGenerate, ChatStreamedWithAndWithoutUsage) {
  SimHarness sim(llama_config());
  const std::string body = R"({"messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":3)";
  auto plain = sse(post_stream(sim, "/v1/chat/completions", body + "}").body);
  ASSERT_TRUE(plain.done);
  ASSERT_EQ(plain.objects.size(), 5u);  // role, three tokens, the final chunk
  EXPECT_EQ(plain.objects[0].at("choices").at(0).at("delta").at("role"), "assistant");
  std::string text;
  for (std::size_t i = 0; i < plain.objects.size(); ++i) {
    EXPECT_EQ(plain.objects[i].at("object"), "chat.completion.chunk");
    if (i >= 1 && i <= 3) text += plain.objects[i].at("choices").at(0).at("delta").at("content").as_string();
  }
  EXPECT_EQ(text.rfind("lama:", 0), 0u);
  const auto& final_chunk = plain.objects[4].at("choices").at(0);
  EXPECT_EQ(final_chunk.at("finish_reason"), "length");
  EXPECT_TRUE(final_chunk.at("delta").as_object().empty());
  EXPECT_TRUE(plain.objects[4].contains("timings"));
  for (const auto& o : plain.objects) EXPECT_FALSE(o.contains("usage"));

  auto with = sse(post_stream(sim, "/v1/chat/completions", body + R"(,"stream_options":{"include_usage":true}})").body);
  ASSERT_TRUE(with.done);
  ASSERT_EQ(with.objects.size(), 6u);
  const auto& usage_chunk = with.objects.back();
  EXPECT_TRUE(usage_chunk.at("choices").as_array().empty());
  EXPECT_EQ(usage_chunk.at("usage").at("completion_tokens").to_number<int>(), 3);
  EXPECT_EQ(usage_chunk.at("usage").at("prompt_tokens").to_number<int>(), 2);
}

TEST(LlamaSimGenerate, BadInputIs400) {
  SimHarness sim(llama_config());
  auto check = [&](const char* target, const char* body) {
    auto r = post(sim.endpoint(), target, body);
    EXPECT_EQ(r.status, 400) << target << " " << body;
    auto v = json::parse(r.body);
    EXPECT_EQ(v.at("error").at("code").to_number<int>(), 400);
    EXPECT_EQ(v.at("error").at("type"), "invalid_request_error");
    EXPECT_FALSE(v.at("error").at("message").as_string().empty());
  };
  check("/completion", "{not json");
  check("/completion", R"({"n_predict":3})");
  check("/completion", R"({"prompt":"x","stream":"yes"})");
  check("/v1/chat/completions", "");
  check("/v1/chat/completions", R"({"model":"tiny"})");
  check("/v1/chat/completions", R"({"messages":[{"content":"no role"}]})");
  EXPECT_EQ(sim.stats().at("generations").to_number<int>(), 0);
}
