#pragma once
// Streamed replies: a node's NDJSON chunks -> OpenAI server-sent events, one translator per
// request (it owns the id, the "role sent" state and the tool-call numbering).
//
// Chat (/api/chat -> chat.completion.chunk), as OpenAI sends them:
//   data: {..."choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
//   data: {..."choices":[{"index":0,"delta":{"content":"Hel"},...}]}          per content chunk
//   data: {..."delta":{"tool_calls":[{"index":0,"id":"call_..","type":"function",
//          "function":{"name":"f","arguments":"{...}"}}]}...}                  whole calls, as Ollama sends them
//   data: {..."choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}
//   data: {..."choices":[],"usage":{...}}                                     only with include_usage
//   data: [DONE]
// With include_usage every other chunk carries "usage":null, as OpenAI's do. Completions
// (/api/generate -> text_completion) are the same without the role chunk, with
// choices[0].text instead of a delta.
//
// Responses (/api/chat -> the Responses events of responses.hpp): `event:` lines, no [DONE].
//
// Errors mid-stream (an Ollama {"error":...} line, a line that is not JSON, the node's body
// ending before done:true, or fail() when the node dies or times out): one event
//   data: {"error":{"message","type","param","code"}}
// and nothing after it, no [DONE]: [DONE] means the answer is complete. The official openai
// clients raise an APIError on such an event. The HTTP status stays 200 (already sent).
#include "api/openai/errors.hpp"
#include "api/openai/response.hpp"
#include "api/openai/responses.hpp"

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::api::openai {

class StreamTranslator {
public:
  explicit StreamTranslator(ReplyContext ctx, size_t max_line = kMaxLine)
      : ctx_(std::move(ctx)), max_line_(max_line) {
    if (ctx_.kind == Kind::responses) responses_.emplace(ctx_);
  }

  // Raw bytes of the node's NDJSON body, split anywhere: the SSE text for every line they
  // complete ("" when none). A line longer than `max_line` is an error (and never held whole).
  std::string feed(std::string_view bytes);

  // One parsed chunk of the node's stream.
  std::string chunk(const boost::json::object& ollama_chunk);

  // The node's body ended: translates a last line without a newline; if the stream had not
  // finished by then, an error event (the node stopped early).
  std::string finish();

  // The node failed mid-stream (connection lost, timeout): the error event, if the stream
  // had not already finished.
  std::string fail(const Error& e);

  // [DONE] or an error event has been produced; all further input yields "".
  bool finished() const { return finished_; }
  // Finished with an error event: the node's reply is of no more use.
  bool failed() const { return failed_; }
  const ReplyContext& context() const { return ctx_; }

  static constexpr size_t kMaxLine = 1024 * 1024;  // limits.line_kb's default

private:
  std::string line(std::string_view text);
  std::string chat_chunk(const boost::json::object& c);
  std::string completion_chunk(const boost::json::object& c);
  std::string end(const boost::json::object& final_chunk);
  boost::json::object base() const;

  ReplyContext ctx_;
  size_t max_line_;
  std::string pending_;  // an incomplete line
  bool role_sent_ = false;
  bool finished_ = false;
  bool failed_ = false;
  size_t tool_calls_ = 0;  // numbers tool calls across the stream (their "index")
  std::optional<ResponseBuilder> responses_;  // Kind::responses: its own events
};

// "data: <json>\n\n"
std::string sse_event(const boost::json::object& data);
// "data: [DONE]\n\n"
std::string sse_done();
// "data: {\"error\":{...}}\n\n"
std::string sse_error(const Error& e);

}  // namespace hydra::api::openai
