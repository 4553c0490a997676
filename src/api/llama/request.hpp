#pragma once
// Ollama requests for a llama.cpp llama-server node (issue #21). Pure: JSON in, JSON out.
//  - /api/chat              -> /v1/chat/completions (its OpenAI-compatible endpoint)
//  - /api/generate          -> /v1/chat/completions, the prompt as a user message after `system`
//  - /api/generate raw:true -> /completion (llama.cpp's own: the prompt as it is, no template)
// The options map onto llama-server's sampling fields (num_predict -> max_tokens / n_predict,
// temperature, top_k, top_p, min_p, seed, stop, repeat_penalty, ...), `format` onto
// response_format, tools and tool calls onto OpenAI's shapes, images onto image_url parts.
// The reply goes back through llama/reply.hpp.
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <variant>

namespace hydra::api::llama {

// The Ollama reply's shape, and what the node answers in.
enum class Mode {
  chat,        // Ollama /api/chat from an OpenAI chat reply
  generate,    // Ollama /api/generate from an OpenAI chat reply
  completion,  // Ollama /api/generate from a /completion reply (raw)
};

struct Translated {
  Mode mode = Mode::chat;
  bool stream = true;   // Ollama streams unless "stream": false
  std::string model;    // as the client named it
  std::string target;   // the node's path
  std::string body;
  // A request that only loads the model (no messages, or an empty prompt): a llama-server
  // holds its model for life, so Hydra answers it without asking the node.
  bool load_only = false;
};

// The translation, or why the request cannot be served by a llama-server (a 400 message).
std::variant<Translated, std::string> translate_request(std::string_view ollama_path, const boost::json::object& body);
std::variant<Translated, std::string> translate_request(std::string_view ollama_path, std::string_view body);

// Whether a path is one translate_request takes.
bool translatable(std::string_view ollama_path);

}  // namespace hydra::api::llama
