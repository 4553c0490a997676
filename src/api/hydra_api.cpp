#include "api/hydra_api.hpp"

#include "api/access.hpp"
#include "api/model_caller.hpp"
#include "common/query.hpp"
#include "orchestrate/roles.hpp"

#include <algorithm>
#include <fmt/format.h>

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

std::string default_model(const Gateway& gw, const Caller* caller) {
  std::vector<std::string> available = available_models(*gw.cluster.snapshot());
  if (caller && caller->key) {
    std::vector<std::string> allowed;
    for (const auto& m : available)
      if (auth::model_allowed(*caller->key, m)) allowed.push_back(m);
    if (!allowed.empty()) available = std::move(allowed);  // none: the request's 403 says so
  }
  return orchestrate::closest_model(gw.models.code_model, available).value_or("");
}

http::awaitable<bool> refused_bad_counts(http::Exchange& ex, std::string_view key, std::string_view other) {
  const std::string_view bad = bad_count(ex.query(), {key, other});
  if (bad.empty()) co_return false;
  co_await ex.respond_error(http::bhttp::status::bad_request, fmt::format("{} must be a whole number", bad));
  co_return true;
}

}  // namespace hydra::api
