#pragma once
// One model request through the whole data path: route (reading the nodes' model lists again
// before saying "not found"), wait for a slot in admission, relay to the chosen node, and
// record the decision in the routing log. Every API (Ollama, OpenAI, Hydra's own, the
// orchestrator) sends its model calls through here; only the sink differs. Runs on the thread
// that serves the request; the decision (key, route, admission) is made on the control thread
// and the request is accounted there afterwards (http/threads.hpp).
#include "api/prefix_request.hpp"
#include "api/relay.hpp"
#include "telemetry/access_log.hpp"

namespace hydra::api {

struct DispatchRequest {
  std::string endpoint;            // for the routing log: "/api/chat", "/v1/chat/completions", ...
  routing::RouteRequest route;
  Upstream upstream;
  bool changes_residency = false;  // loads or unloads a model (empty prompt, keep_alive)
  const Caller* caller = nullptr;  // the API key it came with (access.hpp): allowed models,
                                   // priority cap, generated tokens counted against its tpm
  const http::Exchange* exchange = nullptr;  // the client's request, for the request log (its
                                             // address, X-Request-Id, the status it got); none
                                             // for the gateway's own calls
  std::string client;  // the client's address (dispatch reads it from `exchange`)
  std::string request_id;  // without `exchange`: the id the request log gives it (an orchestration's task id)
  std::string model;   // route.model normalised (common/model_name.hpp); set by dispatch_to_fleet
  std::string cache;   // the response cache's verdict, for the request log ("miss", "bypass")
  PrefixFacts prefix;  // prefix affinity's view of the prompt (dispatch reads it from `upstream`)
  bool prefix_read = false;  // `prefix` was read by the handler, from the body it parsed
  // Whether the body's options name a seed or a temperature (only then may the response
  // cache's deterministic mode keep the reply), told by a handler that parsed the body; unset,
  // the cache looks for the words in the body's text.
  std::optional<bool> names_sampling;
  // A sharded model (api/shards.hpp): what was done to serve it (a coordinator started), or why
  // it cannot be served now (a 503). Set by dispatch.
  std::string shard_note, shard_error;
};

struct Dispatched {
  std::optional<Served> served;  // nullopt: the sink got an error (or the requester left)
  routing::Decision decision;    // as routing made it, the chosen node first
  bool queued = false;
};

// The access-log line the API's guard keeps for the request's exchange (it learns the model,
// the node...), or nullptr: the gateway's own call, or the access log is off.
telemetry::AccessEntry* access_entry(const DispatchRequest& request);

// The whole path: the response cache first (api/cache_dispatch.cpp), then the fleet. The
// request is the caller's, which keeps it until the awaitable completes; dispatch fills in
// parts of it (the client's address, the cache's verdict, the prefix facts) on the way.
http::awaitable<Dispatched> dispatch(Gateway& gw, ReplySink& sink, DispatchRequest& request);
// The fleet only: route, admit, relay, account.
http::awaitable<Dispatched> dispatch_to_fleet(Gateway& gw, ReplySink& sink, DispatchRequest& request);

// Routes by model; on "not found", reads every node's model list again and routes once more:
// the model may have been pulled moments ago, outside Hydra or before the last refresh.
http::awaitable<routing::Decision> route_model(Gateway& gw, const routing::RouteRequest& request,
                                               std::shared_ptr<const cluster::Snapshot>& snapshot);

}  // namespace hydra::api
