#pragma once
// A model too big for any one node, served by a llama.cpp llama-server that Hydra starts over
// rpc-servers ([[sharded]] in the config file; issue #21). Plain settings; api/shards.hpp runs them.
#include <chrono>
#include <string>
#include <vector>

namespace hydra::api {

struct ShardedModel {
  std::string model;        // the name clients use (normalised: "x:latest")
  std::string gguf;         // the file's path on the coordinator's host
  double size_gb = 0;       // the weights; 0: read from the file by the agent
  std::string coordinator;  // the `hydra agent` that starts llama-server: "http://host:port"
  std::vector<std::string> rpc;  // fixed rpc-servers ("host:port"); empty: any Hydra knows
  int ctx = 4096;           // a slot's context (-c is ctx x parallel)
  int parallel = 1;         // --parallel: slots
  std::chrono::milliseconds keep_alive{300'000};  // stopped after this long with no request
  double kv_gb_per_1k_ctx = 0.5;  // KV cache planned per 1,024 tokens of context (all slots)
  double coordinator_gb = 0;      // memory the coordinator's own device offers (0: none)
  std::chrono::milliseconds start_timeout{600'000};  // for its /health to say ready
};

}  // namespace hydra::api
