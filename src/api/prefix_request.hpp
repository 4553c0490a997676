#pragma once
// What prefix affinity needs of a model request (routing/prefix.hpp): the key of the prompt
// the node will evaluate, read from the Ollama body sent to it (every API's model calls are
// Ollama calls by then: /api/chat's messages, /api/generate's system text and prompt), and
// how long the node keeps the model after it (keep_alive; Ollama's 5 minutes by default).
// Recorded once a node has served the request (api/dispatch.cpp).
#include "api/attempt.hpp"
#include "routing/prefix.hpp"

#include <memory>

namespace hydra::api {

struct PrefixFacts {
  std::shared_ptr<const routing::PrefixKey> key;  // null: no prompt, or shorter than one block
  Nanos keep_alive = std::chrono::minutes(5);     // < 0: as long as the node holds the model
};

PrefixFacts prefix_of(const Upstream& upstream);

}  // namespace hydra::api
