#pragma once
// Sharding a model no single node can hold over llama.cpp rpc-servers (issue #21): which
// servers, and how the layers are split among them. Pure: the servers' memory in, a plan out.
//
// The fewest servers whose free memory, with the coordinator's own, holds the model and its KV
// cache, taking the servers with the most free memory first; the split (llama-server's
// --tensor-split) is proportional to each device's free memory. Servers attached to another
// coordinator are not free (an rpc-server serves one client at a time).
#include <cstdint>
#include <string>
#include <vector>

namespace hydra::routing {

struct RpcServer {
  std::string endpoint;     // "host:port"
  uint64_t free_bytes = 0;  // the sum over its devices
  bool in_use = false;      // a coordinator is attached
};

struct ShardNeed {
  uint64_t model_bytes = 0;
  uint64_t kv_bytes = 0;          // KV cache for ctx x parallel
  uint64_t coordinator_bytes = 0; // what the coordinator's own device offers (0: none)
};

struct ShardPlan {
  std::vector<std::string> servers;  // chosen, most free memory first
  // One share per chosen server, in that order, then the coordinator's when it offers memory;
  // the shares sum to 1.
  std::vector<double> split;
  uint64_t planned_bytes = 0;  // free memory of everything chosen
  std::string error;           // set when the free servers cannot hold it: says how short
  bool ok() const { return error.empty(); }
};

ShardPlan plan_shards(std::vector<RpcServer> servers, const ShardNeed& need);

}  // namespace hydra::routing
