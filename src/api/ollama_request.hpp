#pragma once
// The numbers of an Ollama model request (/api/generate, /api/chat, /api/embed, ...) that the
// gateway reads or that no node could honour, checked before the request is routed: a pure
// function, tested without a server. The body is relayed as it came; this only refuses it.
#include "common/json.hpp"

#include <optional>

namespace hydra::api {

// keep_alive: a Go duration or seconds (not NaN or infinite). options: every number finite;
// num_predict from -2 to limits::kTokens, num_ctx from 0 to limits::kTokens (Ollama reads
// them as numbers, so 2048.0 is fine). The error names the field ("options.num_ctx").
std::optional<JsonError> check_ollama_numbers(const boost::json::object& body);

}  // namespace hydra::api
