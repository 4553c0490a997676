#include "api/hydra_api.hpp"

#include "api/model_caller.hpp"
#include "orchestrate/roles.hpp"

#include <algorithm>

namespace hydra::api {

namespace json = boost::json;

json::object decision_json(const Dispatched& d, const std::string& requested_node, const cluster::Snapshot& snapshot) {
  json::object o;
  o["requested_node"] = requested_node.empty() ? json::value(nullptr) : json::value(requested_node);
  o["selected_node"] = d.served ? json::value(d.served->node_id) : json::value(nullptr);
  o["reason"] = d.served ? d.served->reason : d.decision.reason;
  o["queued"] = d.queued;
  json::array candidates;
  for (const auto& c : d.decision.candidates) {
    if (c.index >= snapshot.nodes.size()) continue;
    json::object cj;
    cj["node_id"] = snapshot.nodes[c.index].id;
    cj["score"] = c.score;
    cj["placement"] = routing::to_string(c.placement);
    cj["free_slot"] = c.has_free_slot;
    candidates.push_back(std::move(cj));
  }
  o["candidates"] = std::move(candidates);
  return o;
}

std::string default_model(const Gateway& gw) {
  return orchestrate::closest_model(gw.models.code_model, available_models(*gw.cluster.snapshot())).value_or("");
}

}  // namespace hydra::api
