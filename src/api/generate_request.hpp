#pragma once
// Hydra's POST /generate body, read and checked: a pure function, tested without a server.
#include "common/json.hpp"
#include "routing/route.hpp"

#include <variant>

namespace hydra::api {

struct GenerateRequest {
  std::string prompt;
  std::string model;   // empty: the configured code model (or the closest the fleet has)
  std::string system;
  boost::json::array context;  // Ollama's context tokens from an earlier reply, passed on
  std::optional<double> temperature;
  std::optional<int64_t> max_tokens;
  bool stream = false;
  routing::RouteRequest route;  // node_id, min_vram_gb, prefer_local, priority (model set later)
};

// Unknown fields are ignored; a wrong type or a value out of range is an error naming the field.
std::variant<GenerateRequest, JsonError> parse_generate_request(std::string_view body);

// The Ollama /api/generate body for it (always streamed from the node).
std::string ollama_generate_body(const GenerateRequest& request, const std::string& model);

}  // namespace hydra::api
