// OpenAI requests -> Ollama calls: every field mapping, and the 400s for bad input.
#include "api/openai/request.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

using namespace hydra::api::openai;
namespace json = boost::json;

namespace {

OllamaCall ok(const Result<OllamaCall>& r) {
  if (auto* e = std::get_if<Error>(&r)) {
    ADD_FAILURE() << "unexpected error: " << error_body(*e);
    return {};
  }
  return std::get<OllamaCall>(r);
}

Error err(const Result<OllamaCall>& r) {
  if (auto* c = std::get_if<OllamaCall>(&r)) {
    ADD_FAILURE() << "expected an error, got " << json::serialize(c->body);
    return {};
  }
  return std::get<Error>(r);
}

json::value J(std::string_view text) { return json::parse(text); }

std::string fmt_body(const std::string& messages, const char* field) {
  return R"({"model":"m",)" + messages + "," + field + "}";
}

}  // namespace

TEST(OpenAIChatRequest, MinimalChatDefaultsToNotStreamed) {
  auto call = ok(chat_request(R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}]})"));
  EXPECT_EQ(call.kind, Kind::chat);
  EXPECT_EQ(call.model, "llama3.2:3b");
  EXPECT_EQ(call.target, "/api/chat");
  EXPECT_FALSE(call.stream);
  EXPECT_FALSE(call.include_usage);
  EXPECT_EQ(json::value(call.body),
            J(R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"stream":false})"));
}

TEST(OpenAIChatRequest, StreamAndIncludeUsage) {
  auto call = ok(chat_request(
      R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]})"));
  EXPECT_TRUE(call.stream);
  EXPECT_TRUE(call.include_usage);
  EXPECT_EQ(call.body.at("stream"), json::value(true));
}

TEST(OpenAIChatRequest, SamplingOptions) {
  auto call = ok(chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],
    "max_tokens":50,"temperature":0.2,"top_p":0.9,"seed":42,"frequency_penalty":0.5,"presence_penalty":-0.5,
    "stop":"END","tool_choice":"auto","logprobs":false,"user":"u1","some_future_field":{"a":1}})"));
  EXPECT_EQ(json::value(call.body.at("options")),
            J(R"({"num_predict":50,"temperature":0.2,"top_p":0.9,"frequency_penalty":0.5,"presence_penalty":-0.5,
                 "seed":42,"stop":["END"]})"));
  // Unknown and ignored fields do not reach the node.
  EXPECT_FALSE(call.body.contains("tool_choice"));
  EXPECT_FALSE(call.body.contains("some_future_field"));
}

TEST(OpenAIChatRequest, MaxCompletionTokensWinsAndStopList) {
  auto call = ok(chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],
    "max_tokens":50,"max_completion_tokens":7,"stop":["a","b"]})"));
  EXPECT_EQ(call.body.at("options").at("num_predict"), json::value(7));
  EXPECT_EQ(call.body.at("options").at("stop"), J(R"(["a","b"])"));
}

TEST(OpenAIChatRequest, NoOptionsWhenNoneGiven) {
  auto call = ok(chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":null})"));
  EXPECT_FALSE(call.body.contains("options"));
}

TEST(OpenAIChatRequest, ResponseFormat) {
  auto json_object = ok(chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})"));
  EXPECT_EQ(json_object.body.at("format"), json::value("json"));

  auto schema = ok(chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],
    "response_format":{"type":"json_schema","json_schema":{"name":"p","strict":true,
      "schema":{"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]}}}})"));
  EXPECT_EQ(schema.body.at("format"),
            J(R"({"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]})"));

  auto text = ok(chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}})"));
  EXPECT_FALSE(text.body.contains("format"));

  auto no_schema = err(chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"p"}}})"));
  EXPECT_EQ(no_schema.param, "response_format.json_schema.schema");
  auto bad_type = err(chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}})"));
  EXPECT_EQ(bad_type.param, "response_format.type");
}

TEST(OpenAIChatRequest, ContentPartsTextJoinedAndImagesAsBase64) {
  auto call = ok(chat_request(R"({"model":"m","messages":[{"role":"user","content":[
    {"type":"text","text":"what is"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},
    {"type":"text","text":"in this picture?"},
    {"type":"image_url","image_url":"data:image/jpeg;base64,/9j/4AAQ"}]}]})"));
  EXPECT_EQ(json::value(call.body.at("messages")),
            J(R"([{"role":"user","content":"what is\nin this picture?","images":["iVBORw0KGgo=","/9j/4AAQ"]}])"));
}

TEST(OpenAIChatRequest, RemoteImageUrlIsRefused) {
  auto e = err(chat_request(R"({"model":"m","messages":[{"role":"user","content":[
    {"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]})"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "messages[0].content[0].image_url");
  EXPECT_NE(e.message.find("data: URL"), std::string::npos);
}

TEST(OpenAIChatRequest, UnsupportedPartType) {
  auto e = err(chat_request(R"({"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]})"));
  EXPECT_EQ(e.param, "messages[0].content[0].type");
}

TEST(OpenAIChatRequest, RolesAndNullContent) {
  auto call = ok(chat_request(R"({"model":"m","messages":[
    {"role":"developer","content":"be brief"},{"role":"system","content":"s"},
    {"role":"user","content":"u","name":"bob"},{"role":"assistant","content":null}]})"));
  EXPECT_EQ(json::value(call.body.at("messages")),
            J(R"([{"role":"system","content":"be brief"},{"role":"system","content":"s"},
                  {"role":"user","content":"u"},{"role":"assistant","content":""}])"));
}

TEST(OpenAIChatRequest, AssistantToolCallsAndToolResults) {
  auto call = ok(chat_request(R"({"model":"m","messages":[
    {"role":"user","content":"weather in Paris and Rome?"},
    {"role":"assistant","content":null,"tool_calls":[
      {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"call_2","type":"function","function":{"name":"get_time","arguments":""}}]},
    {"role":"tool","tool_call_id":"call_1","content":"18C"},
    {"role":"tool","tool_call_id":"call_2","name":"clock","content":"noon"},
    {"role":"tool","tool_call_id":"call_unknown","content":"?"}]})"));
  EXPECT_EQ(json::value(call.body.at("messages")), J(R"([
    {"role":"user","content":"weather in Paris and Rome?"},
    {"role":"assistant","content":"","tool_calls":[
      {"id":"call_1","function":{"name":"get_weather","arguments":{"city":"Paris"}}},
      {"id":"call_2","function":{"name":"get_time","arguments":{}}}]},
    {"role":"tool","content":"18C","tool_name":"get_weather","tool_call_id":"call_1"},
    {"role":"tool","content":"noon","tool_name":"clock","tool_call_id":"call_2"},
    {"role":"tool","content":"?","tool_call_id":"call_unknown"}])"));
}

TEST(OpenAIChatRequest, ToolCallArgumentsMustBeJsonObjectText) {
  auto e = err(chat_request(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[
    {"id":"c","type":"function","function":{"name":"f","arguments":"{not json"}}]}]})"));
  EXPECT_EQ(e.param, "messages[0].tool_calls[0].function.arguments");
}

TEST(OpenAIChatRequest, ToolsPassThrough) {
  const char* tools = R"([{"type":"function","function":{"name":"get_weather","description":"Weather",
    "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])";
  auto call = ok(chat_request(std::string(R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"auto","tools":)") +
                              tools + "}"));
  EXPECT_EQ(call.body.at("tools"), J(tools));
  auto e = err(chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{}}]})"));
  EXPECT_EQ(e.param, "tools[0].function.name");
}

TEST(OpenAIChatRequest, ModelRequired) {
  for (const char* body : {R"({"messages":[{"role":"user","content":"x"}]})",
                           R"({"model":"","messages":[{"role":"user","content":"x"}]})"}) {
    auto e = err(chat_request(body));
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.type, "invalid_request_error");
    EXPECT_EQ(e.param, "model");
  }
  auto e = err(chat_request(R"({"model":7,"messages":[]})"));
  EXPECT_EQ(e.param, "model");
  EXPECT_EQ(e.message, "Invalid type for 'model': expected a string, but got an integer instead.");
}

TEST(OpenAIChatRequest, MessagesRequiredNotEmptyAndWellFormed) {
  EXPECT_EQ(err(chat_request(R"({"model":"m"})")).param, "messages");
  EXPECT_EQ(err(chat_request(R"({"model":"m","messages":[]})")).param, "messages");
  EXPECT_EQ(err(chat_request(R"({"model":"m","messages":"hi"})")).param, "messages");
  EXPECT_EQ(err(chat_request(R"({"model":"m","messages":["hi"]})")).param, "messages[0]");
  EXPECT_EQ(err(chat_request(R"({"model":"m","messages":[{"content":"x"}]})")).param, "messages[0].role");
  EXPECT_EQ(err(chat_request(R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"wizard","content":"x"}]})")).param,
            "messages[1].role");
  EXPECT_EQ(err(chat_request(R"({"model":"m","messages":[{"role":"user","content":5}]})")).param,
            "messages[0].content");
}

TEST(OpenAIChatRequest, WrongTypesNameTheParam) {
  const std::string msgs = R"("messages":[{"role":"user","content":"x"}])";
  struct Case {
    const char* field;
    const char* param;
  } cases[] = {
      {R"("temperature":"hot")", "temperature"},
      {R"("top_p":[1])", "top_p"},
      {R"("max_tokens":1.5)", "max_tokens"},
      {R"("max_completion_tokens":"10")", "max_completion_tokens"},
      {R"("seed":"s")", "seed"},
      {R"("stream":"yes")", "stream"},
      {R"("stream_options":{"include_usage":1})", "stream_options.include_usage"},
      {R"("stream_options":true)", "stream_options"},
      {R"("stop":5)", "stop"},
      {R"("stop":["a",5])", "stop"},
      {R"("response_format":"json")", "response_format"},
      {R"("tools":{})", "tools"},
      {R"("n":2)", "n"},
  };
  for (const auto& c : cases) {
    auto e = err(chat_request(fmt_body(msgs, c.field)));
    EXPECT_EQ(e.status, 400) << c.field;
    EXPECT_EQ(e.type, "invalid_request_error") << c.field;
    EXPECT_EQ(e.param, c.param) << c.field;
  }
}

TEST(OpenAIChatRequest, InvalidJson) {
  auto e = err(chat_request("{nope"));
  EXPECT_EQ(e.status, 400);
  EXPECT_NE(e.message.find("JSON"), std::string::npos);
  EXPECT_FALSE(e.param);
  EXPECT_EQ(err(chat_request("")).status, 400);
}

TEST(OpenAICompletionRequest, PromptSuffixOptions) {
  auto call = ok(completion_request(
      R"({"model":"m","prompt":"def f(","suffix":"return x","max_tokens":16,"stop":"\n","echo":true,"stream":true})"));
  EXPECT_EQ(call.kind, Kind::completion);
  EXPECT_EQ(call.target, "/api/generate");
  EXPECT_TRUE(call.stream);
  EXPECT_EQ(json::value(call.body), J(R"({"model":"m","prompt":"def f(","suffix":"return x","stream":true,
                                        "options":{"num_predict":16,"stop":["\n"]}})"));
  auto listed = ok(completion_request(R"({"model":"m","prompt":["only one"]})"));
  EXPECT_EQ(listed.body.at("prompt"), json::value("only one"));
  EXPECT_EQ(listed.body.at("stream"), json::value(false));
}

TEST(OpenAICompletionRequest, UnsupportedPrompts) {
  EXPECT_EQ(err(completion_request(R"({"model":"m"})")).param, "prompt");
  EXPECT_EQ(err(completion_request(R"({"model":"m","prompt":["a","b"]})")).param, "prompt");
  auto tokens = err(completion_request(R"({"model":"m","prompt":[1,2,3]})"));
  EXPECT_EQ(tokens.param, "prompt");
  EXPECT_NE(tokens.message.find("token ids"), std::string::npos);
  EXPECT_EQ(err(completion_request(R"({"model":"m","prompt":{}})")).param, "prompt");
  EXPECT_EQ(err(completion_request(R"({"prompt":"x"})")).param, "model");
}

TEST(OpenAIEmbeddingRequest, InputStringOrList) {
  auto one = ok(embedding_request(R"({"model":"nomic-embed-text","input":"hello"})"));
  EXPECT_EQ(one.kind, Kind::embedding);
  EXPECT_EQ(one.target, "/api/embed");
  EXPECT_EQ(one.encoding, EmbeddingEncoding::float_array);
  EXPECT_EQ(json::value(one.body), J(R"({"model":"nomic-embed-text","input":"hello"})"));
  auto many = ok(embedding_request(R"({"model":"e","input":["a","b"],"dimensions":64,"encoding_format":"base64","user":"x"})"));
  EXPECT_EQ(many.encoding, EmbeddingEncoding::base64);
  EXPECT_EQ(json::value(many.body), J(R"({"model":"e","input":["a","b"],"dimensions":64})"));
}

TEST(OpenAIEmbeddingRequest, Errors) {
  auto tokens = err(embedding_request(R"({"model":"e","input":[101,102]})"));
  EXPECT_EQ(tokens.status, 400);
  EXPECT_EQ(tokens.param, "input");
  EXPECT_NE(tokens.message.find("token ids"), std::string::npos);
  EXPECT_EQ(err(embedding_request(R"({"model":"e","input":[[1,2]]})")).param, "input");
  EXPECT_EQ(err(embedding_request(R"({"model":"e","input":[]})")).param, "input");
  EXPECT_EQ(err(embedding_request(R"({"model":"e","input":["a",null]})")).param, "input");
  EXPECT_EQ(err(embedding_request(R"({"model":"e"})")).param, "input");
  EXPECT_EQ(err(embedding_request(R"({"input":"a"})")).param, "model");
  EXPECT_EQ(err(embedding_request(R"({"model":"e","input":"a","encoding_format":"hex"})")).param, "encoding_format");
  EXPECT_EQ(err(embedding_request(R"({"model":"e","input":"a","dimensions":0})")).param, "dimensions");
  EXPECT_EQ(err(embedding_request(R"({"model":"e","input":"a","dimensions":"8"})")).param, "dimensions");
}

TEST(OpenAIRequest, TranslateRequestDispatches) {
  EXPECT_EQ(ok(translate_request(Kind::embedding, R"({"model":"e","input":"a"})")).target, "/api/embed");
  EXPECT_EQ(ok(translate_request(Kind::completion, R"({"model":"e","prompt":"a"})")).target, "/api/generate");
}

// Numbers OpenAI bounds (and JSON infinities: 1e400 parses as one) are a 400 naming the param,
// never passed on to a node; so are model names longer than any model's.
TEST(OpenAIRequest, NumbersOutOfRangeAndLongModelsNameTheParam) {
  const std::string msgs = R"("messages":[{"role":"user","content":"x"}])";
  struct Case {
    const char* field;
    const char* param;
  } cases[] = {
      {R"("temperature":1e400)", "temperature"},
      {R"("temperature":-1e400)", "temperature"},
      {R"("temperature":-0.1)", "temperature"},
      {R"("temperature":2.5)", "temperature"},
      {R"("top_p":1.5)", "top_p"},
      {R"("top_p":-1)", "top_p"},
      {R"("frequency_penalty":1e400)", "frequency_penalty"},
      {R"("presence_penalty":-3)", "presence_penalty"},
      {R"("max_tokens":0)", "max_tokens"},
      {R"("max_tokens":-5)", "max_tokens"},
      {R"("max_tokens":1e30)", "max_tokens"},
      {R"("max_tokens":1e400)", "max_tokens"},
      {R"("max_tokens":18446744073709551615)", "max_tokens"},
      {R"("max_tokens":3000000000)", "max_tokens"},
      {R"("max_completion_tokens":-1)", "max_completion_tokens"},
      {R"("seed":1e400)", "seed"},
      {R"("n":1e400)", "n"},
  };
  for (const auto& c : cases) {
    auto e = err(chat_request(fmt_body(msgs, c.field)));
    EXPECT_EQ(e.status, 400) << c.field;
    EXPECT_EQ(e.type, "invalid_request_error") << c.field;
    EXPECT_EQ(e.param, c.param) << c.field;
  }
  EXPECT_EQ(err(completion_request(R"({"model":"m","prompt":"x","temperature":1e400})")).param, "temperature");
  EXPECT_EQ(err(embedding_request(R"({"model":"e","input":"a","dimensions":1e12})")).param, "dimensions");
  // The bounds themselves are fine.
  auto edge = ok(chat_request(fmt_body(msgs, R"("temperature":2,"top_p":0,"max_tokens":2147483647)")));
  EXPECT_EQ(edge.body.at("options").at("num_predict"), json::value(2147483647));

  const std::string long_name(1 << 20, 'm');
  for (auto result : {chat_request(R"({"model":")" + long_name + R"(",)" + msgs + "}"),
                      completion_request(R"({"model":")" + long_name + R"(","prompt":"x"})"),
                      embedding_request(R"({"model":")" + long_name + R"(","input":"x"})")}) {
    auto e = err(result);
    EXPECT_EQ(e.param, "model");
    EXPECT_LT(e.message.size(), 200u) << "the error must not echo the name";
  }
  EXPECT_EQ(ok(chat_request(R"({"model":")" + std::string(512, 'm') + R"(",)" + msgs + "}")).model.size(), 512u);
}
