#include "routing/shard_plan.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace hydra::routing {

ShardPlan plan_shards(std::vector<RpcServer> servers, const ShardNeed& need) {
  ShardPlan plan;
  const uint64_t wanted = need.model_bytes + need.kv_bytes;
  std::erase_if(servers, [](const RpcServer& s) { return s.in_use || s.free_bytes == 0; });
  std::stable_sort(servers.begin(), servers.end(),
                   [](const RpcServer& a, const RpcServer& b) { return a.free_bytes > b.free_bytes; });
  uint64_t have = need.coordinator_bytes;
  std::size_t taken = 0;
  while (have < wanted && taken < servers.size()) have += servers[taken++].free_bytes;
  if (have < wanted) {
    plan.error = fmt::format(
        "the free rpc-servers cannot hold the model: it needs {:.1f} GB (weights {:.1f} GB, KV cache {:.1f} GB), "
        "{} free server{} and the coordinator offer {:.1f} GB",
        wanted / 1e9, need.model_bytes / 1e9, need.kv_bytes / 1e9, servers.size(), servers.size() == 1 ? "" : "s",
        have / 1e9);
    return plan;
  }
  plan.planned_bytes = have;
  for (std::size_t i = 0; i < taken; ++i) {
    plan.servers.push_back(servers[i].endpoint);
    plan.split.push_back(static_cast<double>(servers[i].free_bytes) / static_cast<double>(have));
  }
  if (need.coordinator_bytes > 0)
    plan.split.push_back(static_cast<double>(need.coordinator_bytes) / static_cast<double>(have));
  return plan;
}

}  // namespace hydra::routing
