#pragma once
// Pieces shared by the handlers of Hydra's own API (/generate, /orchestrate, /routing, /stats).
#include "api/dispatch.hpp"

#include <boost/json/object.hpp>

namespace hydra::api {

// {requested_node, selected_node, reason, candidates: [{node_id, score, placement, free_slot}]}
boost::json::object decision_json(const Dispatched& d, const std::string& requested_node,
                                  const cluster::Snapshot& snapshot);

// {nodes: [...], rpc_servers: [...]}: GET /nodes, and the dashboard's `nodes` events.
boost::json::object nodes_json(const cluster::Snapshot& snapshot);

// The model for a request that names none: the configured code model, else the closest model
// the fleet has, among those the caller's key may use when it may use any; empty when no node
// has any model.
std::string default_model(const Gateway& gw, const Caller* caller = nullptr);

// A view's counts in its query (?limit=&after=, ?seconds=): true, with a 400 naming the first of
// the keys given but not as a whole number sent; false when they are absent or whole. (Keys as
// parameters: g++ 12 cannot keep an initializer list across a co_await.)
http::awaitable<bool> refused_bad_counts(http::Exchange& ex, std::string_view key, std::string_view other = {});

}  // namespace hydra::api
