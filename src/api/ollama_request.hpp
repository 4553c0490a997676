#pragma once
// The numbers of an Ollama model request (/api/generate, /api/chat, /api/embed, ...) that the
// gateway reads or that no node could honour, checked before the request is routed: a pure
// function, tested without a server. The body is relayed as it came; this only refuses it.
#include "common/json.hpp"

#include <optional>

namespace hydra::api {

// The top-level fields of a model request the gateway reads itself, found in one pass over the
// body (each lookup in a JSON object is a pass of its own). Null when absent.
struct OllamaFields {
  explicit OllamaFields(const boost::json::object& body);
  const boost::json::value* prompt = nullptr;
  const boost::json::value* system = nullptr;
  const boost::json::value* messages = nullptr;
  const boost::json::value* keep_alive = nullptr;
  const boost::json::value* options = nullptr;
};

// keep_alive: a Go duration or seconds (not NaN or infinite). options: every number finite;
// num_predict from -2 to limits::kTokens, num_ctx from 0 to limits::kTokens (Ollama reads
// them as numbers, so 2048.0 is fine). The error names the field ("options.num_ctx").
std::optional<JsonError> check_ollama_numbers(const OllamaFields& fields);
inline std::optional<JsonError> check_ollama_numbers(const boost::json::object& body) {
  return check_ollama_numbers(OllamaFields(body));
}

// A request changes what a node holds when it loads or unloads (empty prompt, keep_alive).
bool changes_residency(const OllamaFields& fields);

}  // namespace hydra::api
