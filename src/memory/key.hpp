#pragma once
// The response cache's key: a pure function of the request as Hydra sends it to a node (the
// Ollama-native upstream body, whatever API it came through), the model's digest and the
// namespace. Two requests share a key exactly when every field that changes the answer is
// equal; fields that do not (stream, keep_alive) are left out, so a streamed and a whole
// request share an entry. Images are keyed by their SHA-256, not carried in the key.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::memory {

// What kind of reply a path gives: a text (generate, chat) that may stream, or a vector.
enum class Family { generate, chat, embed, embeddings };
std::optional<Family> family_of(std::string_view upstream_target);  // "/api/chat" -> chat
const char* to_string(Family f);
bool streams(Family f);  // generate and chat may stream; embeddings never do

struct KeyInput {
  Family family = Family::generate;
  std::string_view model;   // normalised ("x:latest")
  std::string_view digest;  // the model's digest(s) as the fleet lists them ("" when unknown)
  std::string_view ns;      // the namespace: the API key's name ("" without keys)
  const boost::json::object* body = nullptr;  // the upstream request body
};

// The canonical text the key hashes: compact JSON, object keys sorted at every depth, numbers
// that are whole written as integers (0 and 0.0 are one key), images replaced by their hashes.
std::string canonical(const KeyInput& in);
// Hex SHA-256 of canonical(in).
std::string key_of(const KeyInput& in);

// Whether a whole (non-streamed) reply was asked for: Ollama streams unless "stream": false.
bool wants_stream(Family f, const boost::json::object& body);

}  // namespace hydra::memory
