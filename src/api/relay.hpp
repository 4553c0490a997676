#pragma once
// Forwards one request to the ranked nodes of a routing decision, one attempt at a time: the
// first node that answers gets its reply streamed into the sink. Failures before the first
// byte move on to another node; after it, the sink is told the node broke off.
// Every attempt holds a slot lease from admission for exactly as long as it runs: the first
// comes with the request (dispatch admitted it), each later one is asked for again, so a
// request that fails over never keeps a slot on the node that failed, and never runs on a
// node beyond its slots.
#include "api/attempt.hpp"
#include "routing/route.hpp"

namespace hydra::api {

// The client's request as it came, minus hop-by-hop headers and Hydra's own X-Hydra-* hints.
// The body is moved out of the exchange, not copied (it may be 64 MiB of images).
Upstream upstream_of(http::Exchange& ex);
// The request's id (the client's, or the one the guard made up) and the client's trace context
// with this hop as the parent (a malformed traceparent is dropped), into `u`'s headers. The
// translated APIs (OpenAI, Hydra's own) build their upstream request anew: dispatch adds these.
void add_trace_headers(const http::Exchange& ex, Upstream& u);

// What became of a request that no node finished (for the routing log): the nodes tried, the
// switches of a stream that was continued before it broke off for good, and why; or that its
// client left (abandoned), and which node was serving it then.
struct RelayReport {
  int attempts = 0;
  std::vector<Switch> continued;
  std::string error;
  bool abandoned = false;  // the client left; `error` is empty
  std::string node_id;     // abandoned: the node serving it then (empty: it waited for a slot)
  std::size_t chunks = 0;  // abandoned: pieces of that node's reply the client got, and bytes
  uint64_t bytes = 0;
  double ttft_ms = -1;     // ... its first byte after the request went to it (-1: none came)
  uint64_t tokens = 0;     // ... the tokens of a stream the client got (the stream's chunks)
};

struct RelayOptions {
  Upstream upstream;
  bool refresh_after = false;  // the reply changes what the node holds (load, unload, pull)
  std::unique_ptr<Lease> lease;  // the first attempt's slot, when admission granted one already
  // Model requests: later attempts wait for a slot through admission like the first one.
  // Empty: a per-node operation (pull, create, blobs), leased at once (Admission::lease_now).
  std::string model;
  int priority = 5;
  // How the request was routed: later attempts route again on the fleet as it is then. The
  // caller's (dispatch's request), which outlives the relay; null: not routed.
  const routing::RouteRequest* route = nullptr;
  Deadline deadline = Deadline::max();  // timeouts.total_s after the request arrived
  RelayReport* report = nullptr;        // filled when a stream broke off and none could finish it
  std::optional<Served>* served = nullptr;  // set to the node that served, when one did
  std::string cache_label;  // the response cache's word for the reply (X-Hydra-Cache), e.g. "bypass"
};

// The deadline of a request that arrives now.
Deadline deadline_from_now(const Gateway& gw);

// Sets *options.served to the node that served, when one did (the sink has had its answer
// either way); an out-parameter rather than a result, so a Served's strings are not moved from
// frame to frame. `options` is taken by reference (its lease and upstream are used up): await
// the relay in the expression that makes them.
http::awaitable<void> relay(Gateway& gw, ReplySink& sink, std::shared_ptr<const cluster::Snapshot> snapshot,
                            const routing::Decision& decision, RelayOptions&& options);

}  // namespace hydra::api
