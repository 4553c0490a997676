#pragma once
// Forwards one client request to the ranked nodes of a routing decision: the first node that
// answers gets its reply streamed back piece by piece. Failures before the first byte reach
// the client move on to the next node; after it, a streamed reply ends with an Ollama error line.
#include "api/gateway.hpp"
#include "routing/route.hpp"

namespace hydra::api {

struct RelayOptions {
  std::string body;            // the request body to send (may differ from the client's)
  bool refresh_after = false;  // the reply changes what the node holds (load, unload, pull)
  std::optional<std::size_t> reserved_node;  // admission already counted a slot there
};

http::awaitable<void> relay(Gateway& gw, http::Exchange& ex,
                            std::shared_ptr<const cluster::Snapshot> snapshot,
                            const routing::Decision& decision, RelayOptions options);

// Answers a routing failure (404 unknown model, 503 no node) in Ollama's shape.
http::awaitable<void> reply_route_error(http::Exchange& ex, const routing::Decision& decision);

}  // namespace hydra::api
