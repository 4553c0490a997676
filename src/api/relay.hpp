#pragma once
// Forwards one request to the ranked nodes of a routing decision: the first node that answers
// gets its reply streamed into the sink piece by piece. Failures before the first byte move on
// to the next node; after it, the sink is told the node broke off (never a silent hang).
#include "api/gateway.hpp"
#include "api/sink.hpp"
#include "routing/route.hpp"

namespace hydra::api {

// What to send to a node. Headers are forwarded as they are; Host, framing and hop-by-hop
// headers are the relay's own.
struct Upstream {
  http::bhttp::verb method = http::bhttp::verb::post;
  std::string target;
  http::bhttp::fields headers;
  std::string body;
};

// The client's request as it came, minus hop-by-hop headers and Hydra's own X-Hydra-* hints.
Upstream upstream_of(const http::Request& request);

struct RelayOptions {
  Upstream upstream;
  bool refresh_after = false;  // the reply changes what the node holds (load, unload, pull)
  std::optional<std::size_t> reserved_node;  // admission already counted a slot there
};

// Returns the node that served, or nullopt when none did (the sink has had its answer either way).
http::awaitable<std::optional<Served>> relay(Gateway& gw, ReplySink& sink,
                                             std::shared_ptr<const cluster::Snapshot> snapshot,
                                             const routing::Decision& decision, RelayOptions options);

}  // namespace hydra::api
