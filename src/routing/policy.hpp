#pragma once
// Which policy orders the candidates. Hydra's own is `scored` (route.hpp: residency, free
// memory, slots, speed, errors, locality). The two baselines exist so that benchmarks can
// compare policies in one binary (setting routing.policy): `round_robin` takes the nodes that
// have the model in turn; `least_connections` prefers the node with the fewest requests in
// flight per slot. Both ignore everything else routing knows. Pure.
#include "routing/route.hpp"

#include <optional>
#include <string_view>

namespace hydra::routing {

enum class Policy { scored, round_robin, least_connections };

const char* to_string(Policy p);
std::optional<Policy> parse_policy(std::string_view text);  // "scored", "round_robin", "least_connections"

// route() for `scored`; for a baseline, the routable holders of the model in its order.
// `turn` advances round robin (the caller counts requests).
Decision route_with_policy(const cluster::Snapshot& snapshot, const RouteRequest& request, Random& random,
                           const Weights& weights, Policy policy, uint64_t turn);

}  // namespace hydra::routing
