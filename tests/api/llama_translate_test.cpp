// Ollama requests for llama-server nodes and their replies back (api/llama): pure, no server.
#include "api/llama/reply.hpp"
#include "api/llama/request.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <sstream>

namespace hydra::api::llama {
namespace {

namespace json = boost::json;

Translated ok(std::string_view path, std::string_view body) {
  auto t = translate_request(path, body);
  EXPECT_TRUE(std::holds_alternative<Translated>(t)) << (std::holds_alternative<std::string>(t) ? std::get<std::string>(t) : "");
  return std::holds_alternative<Translated>(t) ? std::get<Translated>(t) : Translated{};
}

std::vector<json::object> lines(const std::string& ndjson) {
  std::vector<json::object> out;
  std::istringstream in(ndjson);
  for (std::string l; std::getline(in, l);) out.push_back(json::parse(l).as_object());
  return out;
}

TEST(LlamaRequest, ChatBecomesAnOpenAiChatWithOptionsFormatImagesAndUsageAsked) {
  auto t = ok("/api/chat", R"({"model":"big","messages":[{"role":"system","content":"be brief"},
    {"role":"user","content":"look","images":["AAAA"]}],"options":{"num_predict":12,"temperature":0.2,"top_k":5,
    "num_ctx":9999,"stop":["x"]},"format":"json","keep_alive":"5m"})");
  EXPECT_EQ(t.target, "/v1/chat/completions");
  EXPECT_EQ(t.mode, Mode::chat);
  EXPECT_TRUE(t.stream);
  EXPECT_FALSE(t.load_only);
  auto b = json::parse(t.body).as_object();
  EXPECT_EQ(b.at("max_tokens"), 12);
  EXPECT_EQ(b.at("temperature"), 0.2);
  EXPECT_EQ(b.at("top_k"), 5);
  EXPECT_EQ(b.at("stop").as_array().size(), 1u);
  EXPECT_FALSE(b.contains("num_ctx"));
  EXPECT_FALSE(b.contains("keep_alive"));
  EXPECT_EQ(b.at("response_format").at("type"), "json_object");
  EXPECT_EQ(b.at("stream_options").at("include_usage"), true);
  const auto& user = b.at("messages").as_array()[1].as_object();
  ASSERT_TRUE(user.at("content").is_array());
  EXPECT_EQ(user.at("content").as_array()[1].at("image_url").at("url"), "data:image/png;base64,AAAA");
}

TEST(LlamaRequest, GenerateIsAChatUnlessRawWhichGoesToCompletion) {
  auto t = ok("/api/generate", R"({"model":"big","system":"sys","prompt":"hi","stream":false})");
  EXPECT_EQ(t.target, "/v1/chat/completions");
  EXPECT_EQ(t.mode, Mode::generate);
  EXPECT_FALSE(t.stream);
  auto b = json::parse(t.body).as_object();
  EXPECT_EQ(b.at("messages").as_array().size(), 2u);
  EXPECT_FALSE(b.contains("stream_options"));
  auto raw = ok("/api/generate", R"({"model":"big","prompt":"<s>hi","raw":true,"options":{"num_predict":3}})");
  EXPECT_EQ(raw.target, "/completion");
  EXPECT_EQ(raw.mode, Mode::completion);
  auto rb = json::parse(raw.body).as_object();
  EXPECT_EQ(rb.at("prompt"), "<s>hi");
  EXPECT_EQ(rb.at("n_predict"), 3);
}

TEST(LlamaRequest, ToolCallsGoOutInOpenAisShapeAndLoadsAndBadBodiesAreSaid) {
  auto t = ok("/api/chat", R"({"model":"m","messages":[{"role":"assistant","content":"",
    "tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]}],"tools":[{"type":"function","function":{"name":"f"}}]})");
  auto b = json::parse(t.body).as_object();
  const auto& call = b.at("messages").as_array()[0].at("tool_calls").as_array()[0];
  EXPECT_EQ(call.at("function").at("arguments"), R"({"a":1})");
  EXPECT_EQ(b.at("tools").as_array().size(), 1u);
  EXPECT_TRUE(ok("/api/chat", R"({"model":"m","messages":[]})").load_only);
  EXPECT_TRUE(ok("/api/generate", R"({"model":"m"})").load_only);
  EXPECT_TRUE(std::holds_alternative<std::string>(translate_request("/api/chat", "not json")));
  EXPECT_TRUE(std::holds_alternative<std::string>(translate_request("/api/chat", R"({"messages":[{"content":"x"}]})")));
  EXPECT_TRUE(std::holds_alternative<std::string>(translate_request("/api/generate", R"({"prompt":"a","suffix":"b"})")));
}

TEST(LlamaReply, ChatStreamBecomesNdjsonWithCountsAndDurationsFromUsageAndTimings) {
  ReplyTranslator r(Mode::chat, true, "big", "2026-01-01T00:00:00Z");
  std::string out;
  // Split mid-event, as TCP reads split it.
  r.feed("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\ndata: {\"choi", out);
  r.feed("ces\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n", out);
  r.feed("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\"timings\":{\"prompt_ms\":20,\"predicted_ms\":80}}\n\n", out);
  EXPECT_FALSE(r.done());
  r.feed("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}\n\ndata: [DONE]\n\n", out);
  EXPECT_TRUE(r.done());
  auto l = lines(out);
  ASSERT_EQ(l.size(), 3u) << out;
  EXPECT_EQ(l[0].at("message").at("content"), "Hel");
  EXPECT_EQ(l[1].at("message").at("content"), "lo");
  EXPECT_EQ(l[0].at("done"), false);
  EXPECT_EQ(l[2].at("done"), true);
  EXPECT_EQ(l[2].at("done_reason"), "length");
  EXPECT_EQ(l[2].at("prompt_eval_count"), 7);
  EXPECT_EQ(l[2].at("eval_count"), 2);
  EXPECT_EQ(l[2].at("eval_duration"), 80'000'000);
  EXPECT_EQ(l[2].at("model"), "big");
  EXPECT_EQ(r.eval_count(), 2u);
  std::string after;
  r.finish("", after);
  EXPECT_TRUE(after.empty()) << "one done line only";
}

TEST(LlamaReply, StreamedToolCallsArriveWholeBeforeTheDoneLine) {
  ReplyTranslator r(Mode::chat, true, "m", "t");
  std::string out;
  r.feed(R"(data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"get","arguments":"{\"ci"}}]}}]})" "\n", out);
  r.feed(R"(data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Oslo\"}"}}]},"finish_reason":"tool_calls"}]})" "\n", out);
  r.finish("", out);  // a stream that ended without [DONE]
  auto l = lines(out);
  ASSERT_EQ(l.size(), 2u) << out;
  EXPECT_EQ(l[0].at("message").at("tool_calls").as_array()[0].at("function").at("arguments").at("city"), "Oslo");
  EXPECT_EQ(l[1].at("done"), true);
}

TEST(LlamaReply, CompletionStreamAndWholeRepliesAndErrors) {
  ReplyTranslator r(Mode::completion, true, "m", "t");
  std::string out;
  r.feed("data: {\"content\":\"a\",\"stop\":false}\n\ndata: {\"content\":\"\",\"stop\":true,\"stop_type\":\"eos\","
         "\"tokens_predicted\":1,\"tokens_evaluated\":4,\"timings\":{\"prompt_ms\":1,\"predicted_ms\":2}}\n\n", out);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 2u) << out;
  EXPECT_EQ(l[0].at("response"), "a");
  EXPECT_EQ(l[1].at("prompt_eval_count"), 4);
  EXPECT_EQ(l[1].at("done_reason"), "stop");

  ReplyTranslator whole(Mode::generate, false, "m", "t");
  std::string w;
  whole.finish(R"({"choices":[{"message":{"role":"assistant","content":"hi there"},"finish_reason":"stop"}],
    "usage":{"prompt_tokens":5,"completion_tokens":2}})", w);
  auto o = json::parse(w).as_object();
  EXPECT_EQ(o.at("response"), "hi there");
  EXPECT_EQ(o.at("done"), true);
  EXPECT_EQ(o.at("eval_count"), 2);

  EXPECT_EQ(json::parse(ollama_error(R"({"error":{"code":400,"message":"bad thing","type":"x"}})")).at("error"), "bad thing");
  std::string e;
  ReplyTranslator failing(Mode::chat, true, "m", "t");
  failing.feed("data: {\"error\":{\"message\":\"boom\"}}\n\n", e);
  EXPECT_EQ(json::parse(e).at("error"), "boom");
  EXPECT_TRUE(failing.done());
  EXPECT_EQ(json::parse(load_reply(Mode::chat, "m", "t")).at("done_reason"), "load");
}

}  // namespace
}  // namespace hydra::api::llama
