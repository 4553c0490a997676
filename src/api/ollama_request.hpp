#pragma once
// The numbers of an Ollama model request (/api/generate, /api/chat, /api/embed, ...) that the
// gateway reads or that no node could honour, checked before the request is routed: a pure
// function, tested without a server. The body is relayed as it came; this only refuses it.
#include "common/duration.hpp"
#include "common/json.hpp"

#include <boost/container/small_vector.hpp>
#include <forward_list>
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

// What the gateway goes by in a usable Ollama model request, however it was read: in one pass
// over its text (scan_ollama_request, api/ollama_scan.hpp) or from its JSON tree (facts_of,
// for a request the pass leaves to the tree). The texts are views into the body, the tree or
// `owned`: the facts must not outlive whichever they were read from.
struct OllamaFacts {
  struct Message {
    std::string_view role, content;  // strings, else empty
  };
  std::string model;
  bool changes_residency = false;  // changes_residency() above
  bool names_sampling = false;     // options has seed or temperature (memory::options_name_sampling)
  std::optional<KeepAlive> keep_alive;  // absent or null: none
  // Read only when asked for (prefix affinity keys the prompt):
  std::string_view prompt, system;  // strings, else empty
  bool messages_array = false;      // "messages" is an array; then its objects, in order:
  boost::container::small_vector<Message, 4> messages;
  std::forward_list<std::string> owned;  // texts that were not whole in the body (escapes)
};

// From a tree whose numbers check_ollama_numbers() found usable. `texts`: read the prompt's
// texts too.
OllamaFacts facts_of(const OllamaFields& fields, std::string model, bool texts);

}  // namespace hydra::api
