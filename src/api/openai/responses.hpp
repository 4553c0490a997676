#pragma once
// /api/chat replies -> OpenAI Response objects (POST /v1/responses), whole or as the Responses
// stream's events. One builder serves both: a whole reply is a single chunk that ends the
// response, so a client gets the same object either way.
//
// Output items, in the order the node produced them: `reasoning` (a thinking model's thinking,
// as a summary_text), `message` (assistant, one output_text part with annotations: []), and
// one `function_call` per tool call ({id:"fc_...", call_id, name, arguments:"<JSON text>"}).
// A reply with none of these has one empty message. A reply cut by max_output_tokens
// (done_reason "length") has status "incomplete" and incomplete_details {reason:
// "max_output_tokens"}. usage: input_tokens (prompt_eval_count), output_tokens (eval_count).
//
// Stream events, each `event: TYPE` + `data: {"type":TYPE,"sequence_number":N,...}`:
//   response.created, response.in_progress                 (status in_progress, no output yet)
//   a message:   response.output_item.added, response.content_part.added,
//                response.output_text.delta ..., response.output_text.done,
//                response.content_part.done, response.output_item.done
//   a call:      response.output_item.added, response.function_call_arguments.delta,
//                response.function_call_arguments.done, response.output_item.done
//   reasoning:   response.output_item.added, response.reasoning_summary_part.added,
//                response.reasoning_summary_text.delta ..., response.reasoning_summary_text.done,
//                response.reasoning_summary_part.done, response.output_item.done
//   response.completed (or response.incomplete), with the whole Response object; nothing after.
// A failure once the stream has begun: response.failed (status "failed", error {code,
// message}, the output so far), then an `error` event carrying code, message and param both
// flat (as OpenAI documents it) and under "error" (as OpenAI sends it, and the official SDKs
// raise it as an APIError).
#include "api/openai/errors.hpp"
#include "api/openai/response.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace hydra::api::openai {

class ResponseBuilder {
public:
  explicit ResponseBuilder(ReplyContext ctx) : ctx_(std::move(ctx)) {}

  // The events for one chunk of the node's /api/chat reply; `last`: the chunk ends the reply.
  // "" once the response has ended.
  std::string chunk(const boost::json::object& c, bool last);

  // The reply broke off: response.failed and the error event ("" once the response has ended).
  std::string fail(const Error& e);

  bool ended() const { return ended_; }

  // The Response object as it stands: finished items only until the response has ended.
  boost::json::object response() const;

private:
  enum class Open { none, reasoning, message };

  std::string event(std::string_view type, boost::json::object fields);
  std::string start();
  std::string open(Open what);
  std::string close(std::string_view status);
  std::string calls(const boost::json::array& ollama_calls);
  std::string end(const boost::json::object& final_chunk);
  std::string next_id(std::string_view prefix) const;
  boost::json::object open_item(std::string_view status) const;

  ReplyContext ctx_;
  int64_t sequence_ = 0;
  bool started_ = false;
  bool ended_ = false;
  boost::json::array output_;  // finished items; the open one is output_.size()
  Open open_ = Open::none;
  std::string open_id_;
  std::string text_;           // the open item's text so far
  size_t calls_ = 0;           // tool calls so far (their call ids' index)
  std::string status_ = "in_progress";
  boost::json::value incomplete_ = nullptr;
  boost::json::value error_ = nullptr;
  boost::json::value usage_ = nullptr;
};

// A whole /api/chat reply -> the Response object.
boost::json::object response_object(const boost::json::object& reply, const ReplyContext& ctx);

}  // namespace hydra::api::openai
