#pragma once
// The llama-server sim's generation requests: POST /completion (llama.cpp's own) and
// POST /v1/chat/completions (OpenAI's), read into one shape. Pure.
#include "common/json.hpp"
#include "sim/prompt_cache.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace hydra::sim {

struct LlamaRequest {
  bool chat = false;
  bool stream = false;         // both endpoints default to a whole reply
  bool include_usage = false;  // chat: stream_options.include_usage
  std::string model;           // as asked; llama-server serves its one model whatever it says
  std::string prompt;          // what the reply is derived from (chat: the contents, one a line)
  // chat: a last assistant message, which the reply goes on from (llama-server's assistant
  // prefill); /completion: the prompt may end with part of an answer (sim/continue.hpp)
  std::string partial;
  Tokens rendered;             // the prompt as the slot caches see it (prompt_cache.hpp)
  std::optional<int64_t> n_predict;  // n_predict / max_tokens; negative: no limit
  uint64_t seed = 0;
};

// Errors are sentences for a 400 invalid_request_error.
std::variant<LlamaRequest, JsonError> parse_completion_request(std::string_view body);
std::variant<LlamaRequest, JsonError> parse_chat_request(std::string_view body);

}  // namespace hydra::sim
