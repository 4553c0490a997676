// POST /v1/responses: the request -> /api/chat translation, and /api/chat replies -> the
// Response object and the Responses stream's events.
#include "api/openai/request.hpp"
#include "api/openai/response.hpp"
#include "api/openai/stream.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

using namespace hydra::api::openai;
namespace json = boost::json;

namespace {

json::value J(std::string_view text) { return json::parse(text); }

OllamaCall ok(std::string_view body) {
  auto r = responses_request(body);
  if (auto* e = std::get_if<Error>(&r)) {
    ADD_FAILURE() << "unexpected error: " << e->message;
    return {};
  }
  return std::get<OllamaCall>(r);
}

Error bad(std::string_view body) {
  auto r = responses_request(body);
  if (auto* e = std::get_if<Error>(&r)) return *e;
  ADD_FAILURE() << "expected an error for " << body << ", got " << json::serialize(std::get<OllamaCall>(r).body);
  return {};
}

ReplyContext ctx_of(std::string_view request) {
  return reply_context(ok(request), "resp_test", 1700000000);
}

const char* kPlain = R"({"model":"llama3.2:3b","input":"hi"})";

struct Event {
  std::string name;  // the `event:` line
  json::object data;
};

// Splits SSE text into events; each must be "event: T\ndata: {...}\n\n" with data.type == T.
std::vector<Event> events(const std::string& sse) {
  std::vector<Event> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    const auto end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event in: " << sse;
    if (end == std::string::npos) break;
    const std::string ev = sse.substr(pos, end - pos);
    pos = end + 2;
    const auto nl = ev.find('\n');
    EXPECT_TRUE(ev.starts_with("event: ") && nl != std::string::npos) << ev;
    if (nl == std::string::npos) continue;
    EXPECT_TRUE(ev.substr(nl + 1).starts_with("data: ")) << ev;
    Event e{ev.substr(7, nl - 7), J(ev.substr(nl + 7)).as_object()};
    EXPECT_EQ(e.data["type"], json::value(e.name));
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> names(const std::vector<Event>& evs) {
  std::vector<std::string> out;
  for (const auto& e : evs) out.push_back(e.name);
  return out;
}

// sequence_number counts from 0 without gaps.
void expect_sequenced(const std::vector<Event>& evs) {
  for (size_t i = 0; i < evs.size(); ++i)
    EXPECT_EQ(evs[i].data.at("sequence_number"), json::value(static_cast<int64_t>(i))) << evs[i].name;
}

const char* kTextStream =
    R"({"model":"m","message":{"role":"assistant","content":"alpha:"},"done":false}
{"model":"m","message":{"role":"assistant","content":" hi"},"done":false}
{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":5,"eval_count":2}
)";

}  // namespace

// --- requests ---

TEST(OpenAIResponsesRequest, TextInputWithInstructionsAndOptions) {
  auto call = ok(R"({"model":"llama3.2:3b","input":"hi","instructions":"be brief","max_output_tokens":64,
                     "temperature":0.2,"top_p":0.9,"store":true,"metadata":{"k":"v"}})");
  EXPECT_EQ(call.kind, Kind::responses);
  EXPECT_EQ(call.target, "/api/chat");
  EXPECT_FALSE(call.stream);
  EXPECT_EQ(json::value(call.body), J(R"({"model":"llama3.2:3b","messages":[{"role":"system","content":"be brief"},
      {"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":64,"temperature":0.2,"top_p":0.9}})"));
  EXPECT_EQ(call.echo["instructions"], json::value("be brief"));
  EXPECT_EQ(call.echo["max_output_tokens"], json::value(64));
  EXPECT_EQ(call.echo["metadata"], J(R"({"k":"v"})"));
  EXPECT_TRUE(ok(R"({"model":"m","input":"x","stream":true})").stream);
}

TEST(OpenAIResponsesRequest, MessageListWithContentParts) {
  auto call = ok(R"({"model":"m","input":[
      {"role":"developer","content":"rules"},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"look"},
          {"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"auto"}]},
      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"a cat","annotations":[]}]},
      {"type":"reasoning","id":"rs_1","summary":[]},
      {"role":"user","content":"and?"}]})");
  EXPECT_EQ(call.body["messages"], J(R"([{"role":"system","content":"rules"},
      {"role":"user","content":"look","images":["AAAA"]},{"role":"assistant","content":"a cat"},
      {"role":"user","content":"and?"}])"));
}

TEST(OpenAIResponsesRequest, FunctionCallsAndOutputsBecomeToolMessages) {
  auto call = ok(R"({"model":"m","input":[{"role":"user","content":"weather in Paris and Rome?"},
      {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
      {"type":"function_call","call_id":"call_2","name":"get_weather","arguments":"{\"city\":\"Rome\"}"},
      {"type":"function_call_output","call_id":"call_1","output":"sunny"},
      {"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"rain"}]}],
    "tools":[{"type":"function","name":"get_weather","description":"weather","parameters":{"type":"object"},
              "strict":true}]})");
  // Consecutive calls are one assistant turn; each result names its tool, found by call_id.
  EXPECT_EQ(call.body["messages"], J(R"([{"role":"user","content":"weather in Paris and Rome?"},
      {"role":"assistant","content":"","tool_calls":[
          {"id":"call_1","function":{"name":"get_weather","arguments":{"city":"Paris"}}},
          {"id":"call_2","function":{"name":"get_weather","arguments":{"city":"Rome"}}}]},
      {"role":"tool","content":"sunny","tool_name":"get_weather","tool_call_id":"call_1"},
      {"role":"tool","content":"rain","tool_name":"get_weather","tool_call_id":"call_2"}])"));
  EXPECT_EQ(call.body["tools"], J(R"([{"type":"function","function":{"name":"get_weather","description":"weather",
      "parameters":{"type":"object"}}}])"));
  // The Response echoes the tools as the client gave them.
  EXPECT_EQ(call.echo["tools"].as_array()[0].as_object()["name"], json::value("get_weather"));
}

TEST(OpenAIResponsesRequest, ToolChoiceNoneHidesTheTools) {
  auto call = ok(R"({"model":"m","input":"x","tool_choice":"none","tools":[{"type":"function","name":"f"}]})");
  EXPECT_FALSE(call.body.contains("tools"));
  EXPECT_TRUE(ok(R"({"model":"m","input":"x","tool_choice":"auto","tools":[{"type":"function","name":"f"}]})")
                  .body.contains("tools"));
}

TEST(OpenAIResponsesRequest, TextFormatAndReasoning) {
  auto schema = ok(R"({"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"s",
                       "schema":{"type":"object"}}},"reasoning":{"effort":"low"}})");
  EXPECT_EQ(schema.body["format"], J(R"({"type":"object"})"));
  EXPECT_EQ(schema.body["think"], json::value("low"));
  EXPECT_EQ(ok(R"({"model":"m","input":"x","text":{"format":{"type":"json_object"}}})").body["format"], json::value("json"));
  EXPECT_EQ(ok(R"({"model":"m","input":"x","reasoning":{"effort":"none"}})").body["think"], json::value(false));
  EXPECT_FALSE(ok(R"({"model":"m","input":"x","text":{"format":{"type":"text"}}})").body.contains("format"));
}

TEST(OpenAIResponsesRequest, StatefulRequestsAreAClearError) {
  Error e = bad(R"({"model":"m","input":"x","previous_response_id":"resp_123"})");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.param, "previous_response_id");
  EXPECT_NE(e.message.find("does not store responses"), std::string::npos) << e.message;
  EXPECT_EQ(bad(R"({"model":"m","input":"x","conversation":"conv_1"})").param, "conversation");
  EXPECT_EQ(bad(R"({"model":"m","input":"x","background":true})").param, "background");
  EXPECT_EQ(bad(R"({"model":"m","input":[{"type":"item_reference","id":"msg_1"}]})").param, "input[0].type");
  // null is as good as absent; store is ignored
  ok(R"({"model":"m","input":"x","previous_response_id":null,"store":false})");
}

TEST(OpenAIResponsesRequest, BadInputNamesTheParam) {
  EXPECT_EQ(bad(R"({"input":"x"})").param, "model");
  EXPECT_EQ(bad(R"({"model":"m"})").param, "input");
  EXPECT_EQ(bad(R"({"model":"m","input":[]})").param, "input");
  EXPECT_EQ(bad(R"({"model":"m","input":42})").param, "input");
  EXPECT_EQ(bad(R"({"model":"m","input":["x"]})").param, "input[0]");
  EXPECT_EQ(bad(R"({"model":"m","input":[{"type":"computer_call"}]})").param, "input[0].type");
  EXPECT_EQ(bad(R"({"model":"m","input":[{"role":"robot","content":"x"}]})").param, "input[0].role");
  EXPECT_EQ(bad(R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]})").param,
            "input[0].content[0].type");
  EXPECT_EQ(bad(R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image",
                    "image_url":"https://x/y.png"}]}]})").param,
            "input[0].content[0].image_url");
  EXPECT_EQ(bad(R"({"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"[1]"}]})").param,
            "input[0].arguments");
  EXPECT_EQ(bad(R"({"model":"m","input":[{"type":"function_call_output","output":"x"}]})").param, "input[0].call_id");
  EXPECT_EQ(bad(R"({"model":"m","input":"x","tools":[{"type":"web_search"}]})").param, "tools[0].type");
  EXPECT_EQ(bad(R"({"model":"m","input":"x","tools":[{"type":"function"}]})").param, "tools[0].name");
  EXPECT_EQ(bad(R"({"model":"m","input":"x","max_output_tokens":0})").param, "max_output_tokens");
  EXPECT_EQ(bad(R"({"model":"m","input":"x","temperature":3})").param, "temperature");
  EXPECT_EQ(bad(R"({"model":"m","input":"x","text":{"format":{"type":"xml"}}})").param, "text.format.type");
  EXPECT_EQ(bad(R"({"model":"m","input":"x","reasoning":{"effort":"max"}})").param, "reasoning.effort");
  EXPECT_EQ(bad("{not json").status, 400);
}

// --- whole replies ---

TEST(OpenAIResponsesReply, TextReplyIsAResponseObject) {
  auto ctx = ctx_of(R"({"model":"llama3.2:3b","input":"hi","instructions":"be brief","temperature":0.5})");
  auto r = response_object(J(R"({"model":"llama3.2:3b","message":{"role":"assistant","content":"alpha: hello"},
      "done":true,"done_reason":"stop","prompt_eval_count":7,"eval_count":3})").as_object(), ctx);
  EXPECT_EQ(r["id"], json::value("resp_test"));
  EXPECT_EQ(r["object"], json::value("response"));
  EXPECT_EQ(r["created_at"], json::value(1700000000));
  EXPECT_EQ(r["status"], json::value("completed"));
  EXPECT_EQ(r["model"], json::value("llama3.2:3b"));
  EXPECT_EQ(r["instructions"], json::value("be brief"));
  EXPECT_EQ(r["temperature"], json::value(0.5));
  EXPECT_EQ(r["top_p"], json::value(nullptr));
  EXPECT_EQ(r["error"], json::value(nullptr));
  EXPECT_EQ(r["incomplete_details"], json::value(nullptr));
  EXPECT_EQ(r["previous_response_id"], json::value(nullptr));
  EXPECT_EQ(r["store"], json::value(false));
  EXPECT_EQ(r["tools"], json::array());
  EXPECT_EQ(r["tool_choice"], json::value("auto"));
  EXPECT_EQ(r["text"], J(R"({"format":{"type":"text"}})"));
  EXPECT_EQ(r["usage"], J(R"({"input_tokens":7,"input_tokens_details":{"cached_tokens":0},"output_tokens":3,
      "output_tokens_details":{"reasoning_tokens":0},"total_tokens":10})"));
  ASSERT_EQ(r["output"].as_array().size(), 1u);
  json::object msg = r["output"].as_array()[0].as_object();
  EXPECT_TRUE(msg["id"].as_string().starts_with("msg_")) << msg["id"];
  msg.erase("id");
  EXPECT_EQ(json::value(msg), J(R"({"type":"message","status":"completed","role":"assistant",
      "content":[{"type":"output_text","text":"alpha: hello","annotations":[],"logprobs":[]}]})"));
}

TEST(OpenAIResponsesReply, ToolCallsAreFunctionCallItems) {
  auto ctx = ctx_of(kPlain);
  auto r = response_object(J(R"({"message":{"role":"assistant","content":"let me look",
      "tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}},
                    {"id":"call_node","function":{"name":"get_time","arguments":{}}}]},
      "done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1})").as_object(), ctx);
  const auto& out = r["output"].as_array();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].as_object().at("type"), json::value("message"));
  json::object first = out[1].as_object();
  const json::value call_id = first["call_id"];
  EXPECT_TRUE(first["id"].as_string().starts_with("fc_"));
  EXPECT_TRUE(first["call_id"].as_string().starts_with("call_"));  // derived: the node gave none
  EXPECT_NE(first["id"], out[2].as_object().at("id"));
  first.erase("id");
  first.erase("call_id");
  EXPECT_EQ(json::value(first), J(R"({"type":"function_call","status":"completed","name":"get_weather",
      "arguments":"{\"city\":\"Paris\"}"})"));
  EXPECT_EQ(out[2].as_object().at("call_id"), json::value("call_node"));  // the node's own id kept
  EXPECT_EQ(out[2].as_object().at("arguments"), json::value("{}"));
  // Stable: the same reply gets the same ids.
  auto again = response_object(J(R"({"message":{"content":"let me look","tool_calls":[{"function":{"name":"get_weather",
      "arguments":{"city":"Paris"}}}]},"done":true})").as_object(), ctx);
  EXPECT_EQ(again["output"].as_array()[1].as_object().at("call_id"), call_id);
}

// A node's tool call without a function object (fuzz/corpus/openai_reply, openai_stream) is
// still a function call, named "" with no arguments, not an exception.
TEST(OpenAIResponsesReply, AToolCallWithoutAFunctionIsStillAnItem) {
  auto r = response_object(J(R"({"message":{"content":"","tool_calls":[{"functioo":{"name":"f"}},{"function":7}]},
      "done":true,"done_reason":"stop"})").as_object(), ctx_of(kPlain));
  const auto& out = r["output"].as_array();
  ASSERT_EQ(out.size(), 2u);
  for (const auto& item : out) {
    EXPECT_EQ(item.as_object().at("type"), json::value("function_call"));
    EXPECT_EQ(item.as_object().at("name"), json::value(""));
    EXPECT_EQ(item.as_object().at("arguments"), json::value("{}"));
  }
  StreamTranslator t(ctx_of(kPlain));
  auto evs = events(t.feed(R"({"message":{"content":"","tool_calls":[{"id":"c"}]},"done":false}
{"message":{"content":""},"done":true,"done_reason":"stop"}
)"));
  ASSERT_GE(evs.size(), 4u);
  EXPECT_EQ(evs.back().name, "response.completed");
}

TEST(OpenAIResponsesReply, CutByMaxOutputTokensIsIncomplete) {
  auto r = response_object(J(R"({"message":{"content":"alpha: one two"},"done":true,"done_reason":"length",
      "prompt_eval_count":2,"eval_count":2})").as_object(), ctx_of(R"({"model":"m","input":"x","max_output_tokens":2})"));
  EXPECT_EQ(r["status"], json::value("incomplete"));
  EXPECT_EQ(r["incomplete_details"], J(R"({"reason":"max_output_tokens"})"));
  EXPECT_EQ(r["max_output_tokens"], json::value(2));
  EXPECT_EQ(r["output"].as_array()[0].as_object().at("status"), json::value("incomplete"));
}

TEST(OpenAIResponsesReply, EmptyReplyHasAnEmptyMessage) {
  auto r = response_object(J(R"({"message":{"content":""},"done":true})").as_object(), ctx_of(kPlain));
  ASSERT_EQ(r["output"].as_array().size(), 1u);
  EXPECT_EQ(r["output"].as_array()[0].as_object().at("content").as_array()[0].as_object().at("text"), json::value(""));
}

TEST(OpenAIResponsesReply, TranslateReplyAndNodeErrors) {
  auto ctx = ctx_of(kPlain);
  auto done = translate_reply(ctx, 200, R"({"message":{"content":"hey"},"done":true})");
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(J(done.body).as_object().at("object"), json::value("response"));
  auto missing = translate_reply(ctx, 404, R"({"error":"model \"m\" not found, try pulling it first"})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(J(missing.body).at("error").at("code"), json::value("model_not_found"));
}

// --- streams ---

TEST(OpenAIResponsesStream, TextEventsInOpenAIOrder) {
  StreamTranslator t(ctx_of(kPlain));
  auto evs = events(t.feed(kTextStream));
  EXPECT_EQ(names(evs), (std::vector<std::string>{
                            "response.created", "response.in_progress", "response.output_item.added",
                            "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
                            "response.output_text.done", "response.content_part.done", "response.output_item.done",
                            "response.completed"}));
  expect_sequenced(evs);
  EXPECT_TRUE(t.finished());
  EXPECT_FALSE(t.failed());
  EXPECT_EQ(t.feed(kTextStream), "");  // nothing after the response ended
  EXPECT_EQ(t.finish(), "");

  EXPECT_EQ(evs[0].data["response"].at("status"), json::value("in_progress"));
  EXPECT_EQ(evs[0].data["response"].at("output"), json::array());
  EXPECT_EQ(evs[0].data["response"].at("usage"), json::value(nullptr));
  const json::value item_id = evs[2].data["item"].at("id");
  EXPECT_EQ(evs[2].data["item"].at("status"), json::value("in_progress"));
  EXPECT_EQ(evs[2].data["output_index"], json::value(0));
  for (size_t i = 3; i <= 7; ++i) {
    EXPECT_EQ(evs[i].data["item_id"], item_id) << evs[i].name;
    EXPECT_EQ(evs[i].data["content_index"], json::value(0)) << evs[i].name;
  }
  EXPECT_EQ(evs[4].data["delta"], json::value("alpha:"));
  EXPECT_EQ(evs[5].data["delta"], json::value(" hi"));
  EXPECT_EQ(evs[6].data["text"], json::value("alpha: hi"));
  EXPECT_EQ(evs[7].data["part"].at("text"), json::value("alpha: hi"));
  EXPECT_EQ(evs[8].data["item"].at("status"), json::value("completed"));
  // The last event carries what a whole reply would have been.
  json::value completed = evs[9].data["response"];
  auto whole = response_object(J(R"({"message":{"role":"assistant","content":"alpha: hi"},"done":true,
      "done_reason":"stop","prompt_eval_count":5,"eval_count":2})").as_object(), ctx_of(kPlain));
  EXPECT_EQ(completed, json::value(whole));
}

TEST(OpenAIResponsesStream, ToolCallsAfterTextCloseTheMessage) {
  StreamTranslator t(ctx_of(kPlain));
  auto evs = events(t.feed(
      R"({"message":{"content":"checking"},"done":false}
{"message":{"content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":false}
{"message":{"content":""},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":9}
)"));
  EXPECT_EQ(names(evs), (std::vector<std::string>{
                            "response.created", "response.in_progress", "response.output_item.added",
                            "response.content_part.added", "response.output_text.delta", "response.output_text.done",
                            "response.content_part.done", "response.output_item.done", "response.output_item.added",
                            "response.function_call_arguments.delta", "response.function_call_arguments.done",
                            "response.output_item.done", "response.completed"}));
  expect_sequenced(evs);
  const json::object& added = evs[8].data["item"].as_object();
  EXPECT_EQ(evs[8].data["output_index"], json::value(1));
  EXPECT_EQ(added.at("type"), json::value("function_call"));
  EXPECT_EQ(added.at("status"), json::value("in_progress"));
  EXPECT_EQ(added.at("name"), json::value("get_weather"));
  EXPECT_EQ(added.at("arguments"), json::value(""));
  EXPECT_EQ(evs[9].data["item_id"], added.at("id"));
  EXPECT_EQ(evs[9].data["delta"], json::value(R"({"city":"Paris"})"));
  EXPECT_EQ(evs[10].data["arguments"], json::value(R"({"city":"Paris"})"));
  EXPECT_EQ(evs[11].data["item"].at("status"), json::value("completed"));
  const auto& output = evs[12].data["response"].at("output").as_array();
  ASSERT_EQ(output.size(), 2u);
  EXPECT_EQ(output[0].at("type"), json::value("message"));
  EXPECT_EQ(output[1], evs[11].data["item"]);
  EXPECT_EQ(output[1].at("call_id"), added.at("call_id"));
}

TEST(OpenAIResponsesStream, ThinkingIsAReasoningItemFirst) {
  StreamTranslator t(ctx_of(kPlain));
  auto evs = events(t.feed(
      R"({"message":{"thinking":"hmm"},"done":false}
{"message":{"thinking":" ok"},"done":false}
{"message":{"content":"yes"},"done":false}
{"message":{"content":""},"done":true}
)"));
  EXPECT_EQ(names(evs), (std::vector<std::string>{
                            "response.created", "response.in_progress", "response.output_item.added",
                            "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
                            "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
                            "response.reasoning_summary_part.done", "response.output_item.done",
                            "response.output_item.added", "response.content_part.added", "response.output_text.delta",
                            "response.output_text.done", "response.content_part.done", "response.output_item.done",
                            "response.completed"}));
  EXPECT_EQ(evs[6].data["text"], json::value("hmm ok"));
  const auto& output = evs.back().data["response"].at("output").as_array();
  ASSERT_EQ(output.size(), 2u);
  EXPECT_EQ(output[0].at("summary"), J(R"([{"type":"summary_text","text":"hmm ok"}])"));
  EXPECT_EQ(output[1].at("content").at(0).at("text"), json::value("yes"));
}

TEST(OpenAIResponsesStream, FailureIsResponseFailedThenAnErrorEvent) {
  StreamTranslator t(ctx_of(kPlain));
  auto evs = events(t.feed(R"({"message":{"content":"alpha:"},"done":false}
{"error":"runner died"}
)"));
  ASSERT_GE(evs.size(), 2u);
  EXPECT_EQ(evs[evs.size() - 2].name, "response.failed");
  const json::object& failed = evs[evs.size() - 2].data["response"].as_object();
  EXPECT_EQ(failed.at("status"), json::value("failed"));
  EXPECT_EQ(failed.at("error").at("message"), json::value("runner died"));
  // The text the client already had stays in the output.
  EXPECT_EQ(failed.at("output").at(0).at("content").at(0).at("text"), json::value("alpha:"));
  const Event& error = evs.back();
  EXPECT_EQ(error.name, "error");
  EXPECT_EQ(error.data.at("message"), json::value("runner died"));
  EXPECT_EQ(error.data.at("code"), json::value("server_error"));
  // The nested form, which the official SDKs raise as an APIError.
  EXPECT_EQ(error.data.at("error").at("message"), json::value("runner died"));
  EXPECT_EQ(error.data.at("error").at("type"), json::value("server_error"));
  expect_sequenced(evs);
  EXPECT_TRUE(t.failed());
  EXPECT_EQ(t.feed(kTextStream), "");
  EXPECT_EQ(t.fail(make_error(502, "again")), "");
}

TEST(OpenAIResponsesStream, EarlyEndAndLostNodeFailTheResponse) {
  StreamTranslator early(ctx_of(kPlain));
  EXPECT_EQ(names(events(early.feed(R"({"message":{"content":"a"},"done":false})" "\n"))).size(), 5u);
  auto ended = events(early.finish());
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].name, "response.failed");
  EXPECT_EQ(ended[1].data.at("message"), json::value("the node ended the stream before its final chunk"));

  // Nothing from the node at all: the stream still opens with response.created.
  StreamTranslator lost(ctx_of(kPlain));
  auto evs = events(lost.fail(make_error(504, "timeouts.total_s passed")));
  EXPECT_EQ(names(evs), (std::vector<std::string>{"response.created", "response.in_progress", "response.failed", "error"}));
  expect_sequenced(evs);
}

TEST(OpenAIResponsesStream, SplitBytesGiveTheSameEvents) {
  StreamTranslator whole(ctx_of(kPlain));
  const std::string expected = whole.feed(kTextStream);
  const std::string text = kTextStream;
  for (size_t cut = 1; cut < text.size(); cut += 7) {
    StreamTranslator t(ctx_of(kPlain));
    std::string got = t.feed(text.substr(0, cut));
    got += t.feed(text.substr(cut));
    EXPECT_EQ(got, expected) << "cut at " << cut;
  }
}
