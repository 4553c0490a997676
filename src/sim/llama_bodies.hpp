#pragma once
// The llama-server sim's generation replies, as llama.cpp's server builds them
// (docs/LLAMACPP.md 3.5, 3.6): /completion objects and events, OpenAI chat.completion and
// chat.completion.chunk. Plain functions of what one generation did.
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace hydra::sim {

struct LlamaOutcome {
  std::string id;            // chat: "chatcmpl-..."
  std::string model;         // the request's model, else the server's id
  int64_t created = 0;       // seconds since the epoch
  int slot = 0;
  int prompt_tokens = 0;     // the whole prompt, the start token included
  int cached = 0;            // of them, found in the slot's cache
  double prompt_ms = 0;
  int predicted = 0;         // tokens generated
  double predicted_ms = 0;
  bool limited = false;      // cut by n_predict / max_tokens
  std::string text;          // everything generated
  std::string prompt;        // /completion's prompt, echoed
};

boost::json::object llama_timings(const LlamaOutcome& o);

// /completion: one streamed token, and the final object (whole reply, or the last event with
// empty content).
boost::json::object completion_partial(const LlamaOutcome& o, std::string_view token);
boost::json::object completion_final(const LlamaOutcome& o, bool streamed);

boost::json::object chat_whole(const LlamaOutcome& o);
boost::json::object chat_role_chunk(const LlamaOutcome& o);  // the first, delta.role
boost::json::object chat_delta_chunk(const LlamaOutcome& o, std::string_view token);
boost::json::object chat_final_chunk(const LlamaOutcome& o);  // finish_reason, empty delta, timings
boost::json::object chat_usage_chunk(const LlamaOutcome& o);  // choices [], usage

// An SSE event: "data: JSON\n\n".
std::string sse_event(const boost::json::object& o);

}  // namespace hydra::sim
