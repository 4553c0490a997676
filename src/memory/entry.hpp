#pragma once
// One cached reply: the node's answer as it came (Ollama-native: one JSON body, or the pieces
// of an NDJSON stream in the order they arrived) and what the gateway knew of it. Every API
// replays it through its own sink, so one entry serves Ollama, OpenAI and /generate clients.
#include "memory/key.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::memory {

struct Entry {
  std::string model;           // normalised, for purges by model
  std::string node;            // the node that first answered
  bool streamed = false;       // pieces of an NDJSON stream; else one JSON body
  std::vector<std::string> pieces;
  int64_t created_unix_ms = 0;
  int64_t expires_unix_ms = 0;  // 0: never
  uint64_t eval_count = 0, prompt_eval_count = 0;
  double total_ms = -1;        // how long the node took to answer the first time

  std::size_t bytes() const;   // what it holds (pieces and names), for the tiers' budgets
  std::string body() const;    // the pieces joined
};

// A compact binary form for the SQLite and Redis tiers; decode() refuses what it did not write.
std::string encode(const Entry& e);
std::optional<Entry> decode(std::string_view bytes);

// The entry in the shape a request wants. A whole reply asked for a stream is one NDJSON line
// (Ollama's final chunk carries the whole text); a stream asked for whole is merged: the
// text, thinking and tool calls of every line under the final line's fields.
std::vector<std::string> as_stream(const Entry& e);
// Fills eval_count and prompt_eval_count from the reply's final JSON object, when it has them.
void read_counts(Entry& e);
std::optional<std::string> as_whole(const Entry& e, Family family);

}  // namespace hydra::memory
