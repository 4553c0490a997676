#include "routing/policy.hpp"

#include "common/model_name.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace hydra::routing {

const char* to_string(Policy p) {
  switch (p) {
    case Policy::scored: return "scored";
    case Policy::round_robin: return "round_robin";
    case Policy::least_connections: return "least_connections";
  }
  return "scored";
}

std::optional<Policy> parse_policy(std::string_view text) {
  for (Policy p : {Policy::scored, Policy::round_robin, Policy::least_connections})
    if (text == to_string(p)) return p;
  return std::nullopt;
}

Decision route_with_policy(const cluster::Snapshot& snapshot, const RouteRequest& request, Random& random,
                           const Weights& weights, Policy policy, uint64_t turn) {
  Decision d = route(snapshot, request, random, weights);
  if (policy == Policy::scored || !d.ok()) return d;  // errors (404, 503) are the same for every policy

  std::vector<std::size_t> nodes;
  for (const auto& h : snapshot.holders_of(normalize_model_name(request.model)))
    if (snapshot.nodes[h.node].routable()) nodes.push_back(h.node);
  std::sort(nodes.begin(), nodes.end());
  if (policy == Policy::round_robin) {
    std::rotate(nodes.begin(), nodes.begin() + static_cast<long>(turn % nodes.size()), nodes.end());
  } else {
    auto load = [&](std::size_t i) {
      const auto& n = snapshot.nodes[i];
      return static_cast<double>(cluster::busy(n)) /
             std::max(cluster::slots_for(n, d.model).slots, 1);
    };
    std::stable_sort(nodes.begin(), nodes.end(), [&](std::size_t a, std::size_t b) { return load(a) < load(b); });
  }
  d.ranked = nodes;
  d.candidates.clear();
  for (std::size_t i : nodes) {
    Candidate c;
    c.index = i;
    d.candidates.push_back(c);
  }
  d.reason = fmt::format("{}: {} of {} nodes with the model", to_string(policy), snapshot.nodes[nodes.front()].id,
                         nodes.size());
  return d;
}

}  // namespace hydra::routing
