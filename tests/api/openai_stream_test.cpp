// Ollama NDJSON streams -> OpenAI server-sent events.
#include "api/openai/stream.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

using namespace hydra::api::openai;
namespace json = boost::json;

namespace {

json::value J(std::string_view text) { return json::parse(text); }

ReplyContext ctx(Kind kind, bool include_usage = false) {
  OllamaCall call;
  call.kind = kind;
  call.model = "llama3.2:3b";
  call.include_usage = include_usage;
  return reply_context(call, kind == Kind::chat ? "chatcmpl-s" : "cmpl-s", 1700000000);
}

// Splits SSE text into its data payloads; each must be a whole "data: ...\n\n" event.
std::vector<std::string> events(const std::string& sse) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    auto end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event in: " << sse;
    if (end == std::string::npos) break;
    std::string ev = sse.substr(pos, end - pos);
    EXPECT_TRUE(ev.starts_with("data: ")) << ev;
    out.push_back(ev.substr(6));
    pos = end + 2;
  }
  return out;
}

const char* kChatStream =
    R"({"model":"llama3.2:3b","created_at":"t","message":{"role":"assistant","content":"alpha:"},"done":false}
{"model":"llama3.2:3b","created_at":"t","message":{"role":"assistant","content":" hi"},"done":false}
{"model":"llama3.2:3b","created_at":"t","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":5,"eval_count":2}
)";

}  // namespace

TEST(OpenAIStream, ChatChunksAsOpenAISendsThem) {
  StreamTranslator t(ctx(Kind::chat));
  auto ev = events(t.feed(kChatStream));
  ASSERT_EQ(ev.size(), 5u);
  const char* head = R"("id":"chatcmpl-s","object":"chat.completion.chunk","created":1700000000,"model":"llama3.2:3b","system_fingerprint":"fp_ollama")";
  auto chunk = [&](const char* choice) { return J(std::string("{") + head + R"(,"choices":[)" + choice + "]}"); };
  EXPECT_EQ(J(ev[0]), chunk(R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null})"));
  EXPECT_EQ(J(ev[1]), chunk(R"({"index":0,"delta":{"content":"alpha:"},"logprobs":null,"finish_reason":null})"));
  EXPECT_EQ(J(ev[2]), chunk(R"({"index":0,"delta":{"content":" hi"},"logprobs":null,"finish_reason":null})"));
  EXPECT_EQ(J(ev[3]), chunk(R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"})"));
  EXPECT_EQ(ev[4], "[DONE]");
  EXPECT_TRUE(t.finished());
  EXPECT_EQ(t.feed(kChatStream), "");  // nothing after [DONE]
  EXPECT_EQ(t.finish(), "");
}

TEST(OpenAIStream, BytesSplitAnywhereGiveTheSameEvents) {
  StreamTranslator whole(ctx(Kind::chat));
  const std::string expected = whole.feed(kChatStream);
  const std::string text = kChatStream;
  for (size_t step : {1u, 2u, 7u, 64u}) {
    StreamTranslator t(ctx(Kind::chat));
    std::string got;
    for (size_t i = 0; i < text.size(); i += step) got += t.feed(std::string_view(text).substr(i, step));
    EXPECT_EQ(got, expected) << "step " << step;
  }
}

TEST(OpenAIStream, IncludeUsageAddsUsageChunkBeforeDone) {
  StreamTranslator t(ctx(Kind::chat, true));
  auto ev = events(t.feed(kChatStream));
  ASSERT_EQ(ev.size(), 6u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(J(ev[i]).at("usage").is_null()) << ev[i];
  auto usage = J(ev[4]);
  EXPECT_EQ(usage.at("choices"), json::array());
  EXPECT_EQ(usage.at("id"), json::value("chatcmpl-s"));
  EXPECT_EQ(usage.at("usage"), J(R"({"prompt_tokens":5,"completion_tokens":2,"total_tokens":7})"));
  EXPECT_EQ(ev[5], "[DONE]");
}

TEST(OpenAIStream, ToolCallDeltasCarryIndexAndFinishWithToolCalls) {
  StreamTranslator t(ctx(Kind::chat));
  std::string sse;
  sse += t.chunk(J(R"({"message":{"role":"assistant","content":"","tool_calls":[
    {"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":false})").as_object());
  sse += t.chunk(J(R"({"message":{"role":"assistant","content":"","tool_calls":[
    {"function":{"name":"get_time","arguments":{}}}]},"done":false})").as_object());
  sse += t.chunk(J(R"({"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"})").as_object());
  auto ev = events(sse);
  ASSERT_EQ(ev.size(), 5u);
  auto d1 = J(ev[1]).at("choices").at(0).at("delta");
  const auto& c0 = d1.at("tool_calls").at(0);
  EXPECT_EQ(c0.at("index"), json::value(0));
  EXPECT_TRUE(std::string(c0.at("id").as_string()).starts_with("call_"));
  EXPECT_EQ(c0.at("type"), json::value("function"));
  EXPECT_EQ(c0.at("function").at("name"), json::value("get_weather"));
  EXPECT_EQ(J(c0.at("function").at("arguments").as_string()), J(R"({"city":"Paris"})"));
  EXPECT_FALSE(d1.as_object().contains("content"));
  auto c1 = J(ev[2]).at("choices").at(0).at("delta").at("tool_calls").at(0);
  EXPECT_EQ(c1.at("index"), json::value(1));
  EXPECT_NE(c1.at("id"), c0.at("id"));
  EXPECT_EQ(J(ev[3]).at("choices").at(0).at("finish_reason"), json::value("tool_calls"));
  EXPECT_EQ(ev[4], "[DONE]");
}

TEST(OpenAIStream, LengthFinish) {
  StreamTranslator t(ctx(Kind::chat));
  auto ev = events(t.feed(R"({"message":{"content":"a"},"done":true,"done_reason":"length"})" "\n"));
  ASSERT_EQ(ev.size(), 4u);  // role, content carried by the final chunk, finish, [DONE]
  EXPECT_EQ(J(ev[1]).at("choices").at(0).at("delta"), J(R"({"content":"a"})"));
  EXPECT_EQ(J(ev[2]).at("choices").at(0).at("finish_reason"), json::value("length"));
}

TEST(OpenAIStream, CompletionChunks) {
  StreamTranslator t(ctx(Kind::completion, true));
  auto ev = events(t.feed(R"({"response":"alpha:","done":false}
{"response":" x","done":false}
{"response":"","done":true,"done_reason":"stop","context":[1],"prompt_eval_count":3,"eval_count":2}
)"));
  ASSERT_EQ(ev.size(), 5u);
  const char* head = R"("id":"cmpl-s","object":"text_completion","created":1700000000,"model":"llama3.2:3b","system_fingerprint":"fp_ollama")";
  auto chunk = [&](const char* choice) {
    return J(std::string("{") + head + R"(,"choices":[)" + choice + R"(],"usage":null})");
  };
  EXPECT_EQ(J(ev[0]), chunk(R"({"index":0,"text":"alpha:","logprobs":null,"finish_reason":null})"));
  EXPECT_EQ(J(ev[1]), chunk(R"({"index":0,"text":" x","logprobs":null,"finish_reason":null})"));
  EXPECT_EQ(J(ev[2]), chunk(R"({"index":0,"text":"","logprobs":null,"finish_reason":"stop"})"));
  EXPECT_EQ(J(ev[3]).at("choices"), json::array());
  EXPECT_EQ(J(ev[3]).at("usage"), J(R"({"prompt_tokens":3,"completion_tokens":2,"total_tokens":5})"));
  EXPECT_EQ(ev[4], "[DONE]");
}

TEST(OpenAIStream, OllamaErrorLineEndsTheStreamWithAnErrorEvent) {
  StreamTranslator t(ctx(Kind::chat));
  auto ev = events(t.feed(R"({"message":{"content":"par"},"done":false}
{"error":"an error was encountered while running the model"}
{"message":{"content":"ignored"},"done":false}
)"));
  ASSERT_EQ(ev.size(), 3u);  // role, content, error; no [DONE]
  EXPECT_EQ(J(ev[2]), J(R"({"error":{"message":"an error was encountered while running the model",
    "type":"server_error","param":null,"code":null}})"));
  EXPECT_TRUE(t.finished());
  EXPECT_EQ(t.finish(), "");
}

TEST(OpenAIStream, NodeDyingOrEndingEarly) {
  StreamTranslator dies(ctx(Kind::chat));
  dies.feed(R"({"message":{"content":"a"},"done":false})" "\n");
  auto ev = events(dies.fail(make_error(502, "node 10.0.0.2:11434 went away")));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(J(ev[0]).at("error").at("message"), json::value("node 10.0.0.2:11434 went away"));
  EXPECT_EQ(dies.fail(make_error(502, "again")), "");

  StreamTranslator early(ctx(Kind::completion));
  early.feed(R"({"response":"a","done":false})" "\n");
  ev = events(early.finish());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(J(ev[0]).at("error").at("type"), json::value("server_error"));

  // A final line without its newline still counts.
  StreamTranslator unterminated(ctx(Kind::completion));
  std::string sse = unterminated.feed(R"({"response":"a","done":true,"done_reason":"stop"})");
  EXPECT_EQ(sse, "");
  ev = events(unterminated.finish());
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1], "[DONE]");
}

TEST(OpenAIStream, GarbageLineIsAnError) {
  StreamTranslator t(ctx(Kind::chat));
  auto ev = events(t.feed("not json\n"));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(J(ev[0]).as_object().contains("error"));
}

TEST(OpenAIStream, SseHelpers) {
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
  EXPECT_EQ(sse_event(J(R"({"a":1})").as_object()), "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse_error(make_error(500, "x")),
            "data: {\"error\":{\"message\":\"x\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");
}

TEST(OpenAIStream, ALineLongerThanTheLimitFailsAsSoonAsItIsTooLong) {
  StreamTranslator t(ctx(Kind::chat), 1024);
  // Lines up to the limit are fine.
  std::string ok = R"({"message":{"content":")" + std::string(900, 'a') + R"("},"done":false})";
  ASSERT_LE(ok.size(), 1024u);
  EXPECT_EQ(events(t.feed(ok + "\n")).size(), 2u);
  EXPECT_FALSE(t.failed());
  // An endless line: the error comes once the limit is passed, not at its (never) end.
  std::string out;
  for (int i = 0; i < 3 && out.empty(); ++i) out = t.feed(std::string(400, 'x'));
  auto ev = events(out);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0].find("longer than 1 KiB"), std::string::npos) << ev[0];
  EXPECT_TRUE(t.finished());
  EXPECT_TRUE(t.failed());
  EXPECT_EQ(t.feed(std::string(1 << 20, 'x')), "");  // nothing more, nothing held
}

TEST(OpenAIStream, AFinishedStreamIsNotFailed) {
  StreamTranslator t(ctx(Kind::chat));
  t.feed(kChatStream);
  EXPECT_TRUE(t.finished());
  EXPECT_FALSE(t.failed());
}
