#pragma once
// Ollama replies -> OpenAI objects, for replies that are not streamed (streams: stream.hpp).
// Pure: ids and timestamps come in a ReplyContext, made once per request.
#include "api/openai/errors.hpp"
#include "api/openai/request.hpp"

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace hydra::api::openai {

// What every reply to one request shares: the same id and created in all chunks of a stream.
struct ReplyContext {
  Kind kind = Kind::chat;
  std::string id;       // "chatcmpl-..." (chat), "cmpl-..." (completions), "resp_..." (responses)
  int64_t created = 0;  // unix seconds
  std::string model;    // echoed as the client named it
  bool include_usage = false;
  EmbeddingEncoding encoding = EmbeddingEncoding::float_array;
  boost::json::object echo;  // responses: OllamaCall::echo
};

// A fresh context for `call`: a random id with the kind's prefix, created = now.
ReplyContext reply_context(const OllamaCall& call);
// The same with the id and time given (tests; replays).
ReplyContext reply_context(const OllamaCall& call, std::string id, int64_t created);

// /api/chat reply -> chat.completion.
boost::json::object chat_completion(const boost::json::object& reply, const ReplyContext& ctx);
// /api/generate reply -> text_completion.
boost::json::object text_completion(const boost::json::object& reply, const ReplyContext& ctx);
// /api/embed reply -> {object:"list", data:[{object:"embedding", embedding, index}], model, usage}.
// An error if the reply has no "embeddings" list (or an embedding holds a non-number).
Result<boost::json::object> embedding_list(const boost::json::object& reply, const ReplyContext& ctx);

// The whole non-streamed step for a route: the node's status and body in, the status and
// JSON body to answer out. A non-2xx status, an {"error":...} body or an unparseable body
// become an OpenAI error.
struct HttpReply {
  int status = 200;
  std::string body;
};
HttpReply translate_reply(const ReplyContext& ctx, int status, std::string_view ollama_body);

// OpenAI's finish_reason for an Ollama done_reason ("length" -> "length", else "stop";
// "tool_calls" when the reply called tools).
std::string_view finish_reason(std::string_view done_reason, bool called_tools);

// Base64 (RFC 4648, padded) of little-endian float32s: OpenAI's encoding_format "base64".
std::string base64_float32(const boost::json::array& numbers);

}  // namespace hydra::api::openai
