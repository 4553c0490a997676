#pragma once
// A llama-server's reply, as an Ollama client expects it (issue #21). Pure: bytes in, bytes out.
// Streamed replies are Server-Sent Events (OpenAI chunks from /v1/chat/completions, llama.cpp's
// own from /completion) and become Ollama's NDJSON lines: the text as it comes, then one
// `done` line with done_reason, the token counts (usage, or /completion's tokens_evaluated and
// tokens_predicted) and the durations (llama.cpp's `timings`). Whole replies become one JSON
// object. Tool calls (streamed in pieces) go out whole on the line before the last; reasoning
// text goes out as `thinking`.
#include "api/llama/request.hpp"

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace hydra::api::llama {

class ReplyTranslator {
public:
  // `created_at`: the time to stamp lines with (RFC 3339), as Ollama does.
  ReplyTranslator(Mode mode, bool stream, std::string model, std::string created_at);

  // Streamed: the node's bytes in; complete NDJSON lines appended to `out`.
  void feed(std::string_view bytes, std::string& out);
  // The node's reply ended. Streamed: the done line if none went out yet. Whole: the reply
  // (from `body`, the node's whole reply).
  void finish(std::string_view body, std::string& out);

  // The time stamped on the lines from now on (Ollama stamps each line when it is made).
  void stamp(std::string created_at) { created_at_ = std::move(created_at); }
  bool done() const { return done_; }
  uint64_t eval_count() const { return eval_count_; }
  uint64_t prompt_eval_count() const { return prompt_eval_count_; }

private:
  void event(std::string_view data, std::string& out);
  void chat_chunk(const boost::json::object& chunk, std::string& out);
  void completion_chunk(const boost::json::object& chunk, std::string& out);
  void take_stats(const boost::json::object& o);
  boost::json::object line(std::string_view text, std::string_view thinking) const;
  void done_line(std::string& out);
  std::string whole_chat(const boost::json::object& reply);
  std::string whole_completion(const boost::json::object& reply);

  Mode mode_;
  bool stream_;
  std::string model_, created_at_;
  std::string pending_;    // bytes of an event not complete yet
  std::string done_reason_ = "stop";
  bool done_ = false;
  uint64_t eval_count_ = 0, prompt_eval_count_ = 0;
  double prompt_ms_ = 0, predicted_ms_ = 0;
  struct ToolCall {
    std::string name, arguments;
  };
  std::map<int64_t, ToolCall> tool_calls_;  // streamed pieces, by index
};

// A llama-server error body ({"error":{"message":...}}) in Ollama's shape ({"error":"..."}).
std::string ollama_error(std::string_view body);

// Ollama's answer to a request that only loads the model.
std::string load_reply(Mode mode, const std::string& model, const std::string& created_at);

}  // namespace hydra::api::llama
