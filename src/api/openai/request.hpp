#pragma once
// OpenAI request -> the Ollama call that serves it. Pure: the route parses nothing itself;
// it takes `model` from the result for routing and sends `body` to `target` on the node.
//
//   /v1/chat/completions -> /api/chat      /v1/completions -> /api/generate
//   /v1/embeddings       -> /api/embed          /v1/responses   -> /api/chat
//
// Fields OpenAI has and Ollama lacks are ignored (tool_choice, logprobs, user, echo, ...);
// fields of the wrong type, or values Hydra cannot honour (n > 1, token-id prompts, remote
// image URLs), are a 400 invalid_request_error naming the param.
#include "api/openai/errors.hpp"

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace hydra::api::openai {

enum class Kind { chat, completion, embedding, responses };

// How embeddings go back: numbers, or base64 of little-endian float32 (what the official
// `openai` npm client asks for by default, and decodes).
enum class EmbeddingEncoding { float_array, base64 };

struct OllamaCall {
  Kind kind = Kind::chat;
  std::string model;   // as the client named it; also what replies echo back
  std::string target;  // "/api/chat", "/api/generate" or "/api/embed"
  boost::json::object body;  // for /api/chat and /api/generate it always has "stream"
  bool stream = false;         // the client wants SSE (OpenAI's default is false)
  bool include_usage = false;  // stream_options.include_usage: a final usage chunk
  EmbeddingEncoding encoding = EmbeddingEncoding::float_array;  // embeddings only
  // Responses only: what the Response object repeats of the request (instructions, tools,
  // tool_choice, text, temperature, top_p, max_output_tokens, metadata, ...), as given.
  boost::json::object echo;
};

// From the raw request body (invalid JSON is a 400 too).
Result<OllamaCall> chat_request(std::string_view body);
Result<OllamaCall> completion_request(std::string_view body);
Result<OllamaCall> embedding_request(std::string_view body);
Result<OllamaCall> responses_request(std::string_view body);
Result<OllamaCall> translate_request(Kind kind, std::string_view body);

// From an already parsed body.
Result<OllamaCall> chat_request(const boost::json::object& body);
Result<OllamaCall> completion_request(const boost::json::object& body);
Result<OllamaCall> embedding_request(const boost::json::object& body);
// /v1/responses (request_responses.cpp): stateless, so previous_response_id and conversation
// are a 400; `store` is ignored (nothing is kept).
Result<OllamaCall> responses_request(const boost::json::object& body);

}  // namespace hydra::api::openai
