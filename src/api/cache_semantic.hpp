#pragma once
// The semantic tier's one network step: a question's embedding, asked of the fleet through
// Hydra's own dispatch (so it is routed, queued and cached like any embedding request) with
// cache.semantic.model. A gateway's own call: no API key, no client.
#include "api/gateway.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hydra::api {

// The embedding of `text`, or why there is none (the semantic tier is skipped then).
struct Embedding {
  std::optional<std::vector<float>> vector;
  std::string error;
};
http::awaitable<Embedding> embed_question(Gateway& gw, std::string model, std::string text);

}  // namespace hydra::api
