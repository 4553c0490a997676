// Ollama replies -> OpenAI objects (not streamed), models, and the error shapes.
#include "api/openai/errors.hpp"
#include "api/openai/models.hpp"
#include "api/openai/response.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstring>
#include <gtest/gtest.h>

using namespace hydra::api::openai;
namespace json = boost::json;

namespace {

json::value J(std::string_view text) { return json::parse(text); }
json::object O(std::string_view text) { return json::parse(text).as_object(); }

ReplyContext ctx(Kind kind, EmbeddingEncoding enc = EmbeddingEncoding::float_array) {
  OllamaCall call;
  call.kind = kind;
  call.model = "llama3.2:3b";
  call.encoding = enc;
  return reply_context(call, kind == Kind::chat ? "chatcmpl-test" : "cmpl-test", 1700000000);
}

// The test's own base64 decoder (RFC 4648), independent of the encoder under test.
std::vector<float> decode_float32(std::string_view b64) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::vector<unsigned char> bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    if (c == '=') break;
    int v = val(c);
    EXPECT_GE(v, 0) << "bad base64 char " << c;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<unsigned char>((acc >> bits) & 0xff));
    }
  }
  EXPECT_EQ(bytes.size() % 4, 0u);
  std::vector<float> out;
  for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
    uint32_t u = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (static_cast<uint32_t>(bytes[i + 3]) << 24);
    float f;
    std::memcpy(&f, &u, 4);
    out.push_back(f);
  }
  return out;
}

}  // namespace

TEST(OpenAIChatReply, ChatCompletion) {
  auto out = chat_completion(O(R"({"model":"llama3.2:3b","created_at":"2025-01-01T00:00:00Z",
    "message":{"role":"assistant","content":"alpha: hello"},"done":true,"done_reason":"stop",
    "total_duration":5,"prompt_eval_count":12,"eval_count":3})"),
                             ctx(Kind::chat));
  EXPECT_EQ(json::value(out), J(R"({"id":"chatcmpl-test","object":"chat.completion","created":1700000000,
    "model":"llama3.2:3b","system_fingerprint":"fp_ollama",
    "choices":[{"index":0,"message":{"role":"assistant","content":"alpha: hello"},"logprobs":null,"finish_reason":"stop"}],
    "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}})"));
}

TEST(OpenAIChatReply, LengthAndOtherDoneReasons) {
  auto length = chat_completion(O(R"({"message":{"content":"x"},"done":true,"done_reason":"length"})"), ctx(Kind::chat));
  EXPECT_EQ(length.at("choices").at(0).at("finish_reason"), json::value("length"));
  auto load = chat_completion(O(R"({"message":{"content":""},"done":true,"done_reason":"load"})"), ctx(Kind::chat));
  EXPECT_EQ(load.at("choices").at(0).at("finish_reason"), json::value("stop"));
  // No counts (e.g. a load): zeros, not missing fields.
  EXPECT_EQ(load.at("usage"), J(R"({"prompt_tokens":0,"completion_tokens":0,"total_tokens":0})"));
}

TEST(OpenAIChatReply, ToolCallsBecomeOpenAIToolCalls) {
  auto c = ctx(Kind::chat);
  auto out = chat_completion(O(R"({"message":{"role":"assistant","content":"","tool_calls":[
      {"function":{"name":"get_weather","arguments":{"city":"Paris","days":2}}},
      {"id":"call_node","function":{"index":1,"name":"get_time","arguments":{}}}]},
    "done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1})"),
                             c);
  const auto& msg = out.at("choices").at(0).at("message").as_object();
  EXPECT_TRUE(msg.at("content").is_null());
  EXPECT_EQ(out.at("choices").at(0).at("finish_reason"), json::value("tool_calls"));
  const auto& calls = msg.at("tool_calls").as_array();
  ASSERT_EQ(calls.size(), 2u);
  const std::string id0(calls[0].at("id").as_string());
  EXPECT_TRUE(id0.starts_with("call_")) << id0;
  EXPECT_EQ(id0.size(), 29u);
  EXPECT_EQ(calls[0].at("type"), json::value("function"));
  EXPECT_EQ(calls[0].at("function").at("name"), json::value("get_weather"));
  // arguments are JSON text; decode to compare.
  EXPECT_EQ(J(calls[0].at("function").at("arguments").as_string()), J(R"({"city":"Paris","days":2})"));
  EXPECT_FALSE(calls[0].as_object().contains("index"));
  EXPECT_EQ(calls[1].at("id"), json::value("call_node"));
  EXPECT_EQ(calls[1].at("function").at("arguments"), json::value("{}"));
  // Derived ids are stable for one reply id and differ between calls.
  auto again = chat_completion(O(R"({"message":{"tool_calls":[{"function":{"name":"f","arguments":{}}}]},"done":true})"), c);
  EXPECT_EQ(again.at("choices").at(0).at("message").at("tool_calls").at(0).at("id"), json::value(id0));
}

TEST(OpenAIChatReply, ThinkingIsReasoning) {
  auto out = chat_completion(O(R"({"message":{"content":"42","thinking":"hmm"},"done":true})"), ctx(Kind::chat));
  EXPECT_EQ(out.at("choices").at(0).at("message").at("reasoning"), json::value("hmm"));
}

TEST(OpenAICompletionReply, TextCompletion) {
  auto out = text_completion(O(R"({"model":"m","response":"alpha: text","done":true,"done_reason":"length",
    "context":[1,2],"prompt_eval_count":4,"eval_count":2})"),
                             ctx(Kind::completion));
  EXPECT_EQ(json::value(out), J(R"({"id":"cmpl-test","object":"text_completion","created":1700000000,
    "model":"llama3.2:3b","system_fingerprint":"fp_ollama",
    "choices":[{"index":0,"text":"alpha: text","logprobs":null,"finish_reason":"length"}],
    "usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})"));
}

TEST(OpenAIEmbeddingReply, FloatList) {
  auto out = embedding_list(O(R"({"model":"e","embeddings":[[0.5,-1.25],[0,1]],"prompt_eval_count":7})"),
                            ctx(Kind::embedding));
  ASSERT_TRUE(std::holds_alternative<json::object>(out));
  EXPECT_EQ(json::value(std::get<json::object>(out)), J(R"({"object":"list","data":[
    {"object":"embedding","index":0,"embedding":[0.5,-1.25]},{"object":"embedding","index":1,"embedding":[0,1]}],
    "model":"llama3.2:3b","usage":{"prompt_tokens":7,"total_tokens":7}})"));
}

TEST(OpenAIEmbeddingReply, Base64DecodesToTheSameFloats) {
  const std::vector<float> values = {0.0f, 1.0f, -2.5f, 0.123456789f, 3.4e38f, -1e-30f, 0.1f};
  json::array row;
  for (float f : values) row.push_back(static_cast<double>(f));
  json::object reply;
  reply["embeddings"] = json::array{row, json::array{0.25}};
  auto out = embedding_list(reply, ctx(Kind::embedding, EmbeddingEncoding::base64));
  ASSERT_TRUE(std::holds_alternative<json::object>(out));
  const auto& data = std::get<json::object>(out).at("data").as_array();
  ASSERT_TRUE(data[0].at("embedding").is_string());
  EXPECT_EQ(decode_float32(data[0].at("embedding").as_string()), values);
  EXPECT_EQ(decode_float32(data[1].at("embedding").as_string()), std::vector<float>{0.25f});
  // Padding: 4 bytes -> "AACAPg==" (0.25f is 0x3E800000, little-endian 00 00 80 3E).
  EXPECT_EQ(data[1].at("embedding"), json::value("AACAPg=="));
  EXPECT_EQ(base64_float32(json::array{}), "");
}

TEST(OpenAIEmbeddingReply, MalformedReplyIsAnError) {
  auto out = embedding_list(O(R"({"embedding":[1,2]})"), ctx(Kind::embedding));
  ASSERT_TRUE(std::holds_alternative<Error>(out));
  EXPECT_EQ(std::get<Error>(out).status, 502);
}

TEST(OpenAITranslateReply, SuccessAndErrors) {
  auto chat = translate_reply(ctx(Kind::chat), 200, R"({"message":{"content":"hi"},"done":true,"done_reason":"stop"})");
  EXPECT_EQ(chat.status, 200);
  EXPECT_EQ(J(chat.body).at("object"), json::value("chat.completion"));

  auto missing = translate_reply(ctx(Kind::chat), 404, R"({"error":"model \"nope\" not found, try pulling it first"})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(J(missing.body), J(R"({"error":{"message":"model \"nope\" not found, try pulling it first",
    "type":"invalid_request_error","param":"model","code":"model_not_found"}})"));

  auto late = translate_reply(ctx(Kind::completion), 200, R"({"error":"out of memory"})");
  EXPECT_EQ(late.status, 500);
  EXPECT_EQ(J(late.body).at("error").at("type"), json::value("server_error"));

  auto garbage = translate_reply(ctx(Kind::chat), 200, "<html>");
  EXPECT_EQ(garbage.status, 502);

  auto emb = translate_reply(ctx(Kind::embedding, EmbeddingEncoding::base64), 200, R"({"embeddings":[[1]]})");
  EXPECT_EQ(J(emb.body).at("data").at(0).at("embedding"), json::value("AACAPw=="));
}

TEST(OpenAIErrors, StatusToType) {
  EXPECT_EQ(error_type(400), "invalid_request_error");
  EXPECT_EQ(error_type(401), "authentication_error");
  EXPECT_EQ(error_type(403), "permission_error");
  EXPECT_EQ(error_type(404), "invalid_request_error");
  EXPECT_EQ(error_type(413), "invalid_request_error");
  EXPECT_EQ(error_type(429), "rate_limit_error");
  EXPECT_EQ(error_type(500), "server_error");
  EXPECT_EQ(error_type(502), "server_error");
  EXPECT_EQ(error_type(503), "server_error");
  EXPECT_EQ(make_error(503, "busy").code, "service_unavailable");
  EXPECT_EQ(make_error(429, "slow down").code, "rate_limit_exceeded");
  EXPECT_FALSE(make_error(500, "x").code);
}

TEST(OpenAIErrors, Shape) {
  EXPECT_EQ(J(error_body(invalid_request("bad", "temperature"))),
            J(R"({"error":{"message":"bad","type":"invalid_request_error","param":"temperature","code":null}})"));
  EXPECT_EQ(J(error_body(make_error(500, "boom"))),
            J(R"({"error":{"message":"boom","type":"server_error","param":null,"code":null}})"));
  auto nf = model_not_found("x");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.code, "model_not_found");
  EXPECT_EQ(nf.message, "model \"x\" not found, try pulling it first");
}

TEST(OpenAIErrors, FromOllama) {
  auto busy = from_ollama_error(503, R"({"error":"server busy, please try again.  maximum pending requests exceeded"})");
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.type, "server_error");
  EXPECT_EQ(busy.message, "server busy, please try again.  maximum pending requests exceeded");
  auto required = from_ollama_error(400, R"({"error":"model is required"})");
  EXPECT_EQ(required.param, "model");
  auto other404 = from_ollama_error(404, R"({"error":"not found"})");
  EXPECT_FALSE(other404.code);
  auto html = from_ollama_error(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(html.message, "the node answered HTTP 502: <html>Bad Gateway</html>");
  EXPECT_EQ(from_ollama_error(500, "").message, "the node answered HTTP 500 without a message");
  EXPECT_EQ(from_ollama_error(500, std::string(1000, 'x')).message.size(), std::string("the node answered HTTP 500: ").size() + 203);
}

TEST(OpenAIModels, ListAndRetrieve) {
  auto tags = J(R"([
    {"name":"llama3.2:3b","model":"llama3.2:3b","modified_at":"2024-05-01T12:00:00.123456789+02:00","size":2000000000},
    {"name":"tiny-chat:latest","modified_at":"not a time"},
    {"model":"nomic-embed-text:latest","modified_at":"1970-01-02T00:00:00Z"},
    {"size":1}, 7])").as_array();
  EXPECT_EQ(json::value(model_list(tags)), J(R"({"object":"list","data":[
    {"id":"llama3.2:3b","object":"model","created":1714557600,"owned_by":"library"},
    {"id":"tiny-chat:latest","object":"model","created":0,"owned_by":"library"},
    {"id":"nomic-embed-text:latest","object":"model","created":86400,"owned_by":"library"}]})"));
  auto one = model_object(tags, "tiny-chat");
  ASSERT_TRUE(std::holds_alternative<json::object>(one));
  EXPECT_EQ(std::get<json::object>(one).at("id"), json::value("tiny-chat:latest"));
  auto none = model_object(tags, "gpt-4o");
  ASSERT_TRUE(std::holds_alternative<Error>(none));
  EXPECT_EQ(std::get<Error>(none).status, 404);
  EXPECT_EQ(std::get<Error>(none).code, "model_not_found");
}

TEST(OpenAIModels, Rfc3339) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2000-03-01T00:00:00Z"), 951868800);
  EXPECT_EQ(parse_rfc3339("2024-02-29T23:59:59.5-01:00"), 1709254799);
  EXPECT_FALSE(parse_rfc3339("2024-02-29"));
  EXPECT_FALSE(parse_rfc3339("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2024-01-01T00:00:00"));
  EXPECT_FALSE(parse_rfc3339("2024-01-01T00:00:00Zjunk"));
}
