#pragma once
// Routing v1: which nodes may serve a request, best first, and why. Pure: a snapshot and a
// request in, a decision out; no I/O, no clock.
#include "cluster/snapshot.hpp"
#include "routing/random.hpp"

#include <string>
#include <vector>

namespace hydra::routing {

struct RouteRequest {
  std::string model;  // as the client wrote it; normalised inside
};

struct Decision {
  std::vector<std::size_t> ranked;  // indices into snapshot.nodes, best first
  std::string reason;               // one line, for X-Hydra-Route-Reason and logs
  int error_status = 0;             // when nothing can serve: 404 or 503
  std::string error;                // ... and the message, in Ollama's words
  bool ok() const { return error_status == 0; }
};

// Nodes that are routable and have the model; resident first, then the fewest in-flight
// requests per slot; ties broken at random.
Decision route(const cluster::Snapshot& snapshot, const RouteRequest& request, Random& random);

// For requests that need no particular model (pull, create): routable nodes, least loaded first.
Decision route_any(const cluster::Snapshot& snapshot, Random& random);

}  // namespace hydra::routing
