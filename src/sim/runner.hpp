#pragma once
// `hydra sim`: one or many simulated nodes in one process, on one io_context thread.
#include "sim/config.hpp"

#include <string>
#include <vector>

namespace hydra::sim {

struct RunOptions {
  NodeConfig node;        // the template every node starts from
  int nodes = 1;          // --nodes N: N nodes on consecutive ports (port 0: any free ports)
  std::string addresses;  // --addresses A-B: one node per IPv4 address on the same port
  bool rpc_server = false;  // --rpc-server: run a ggml-rpc server (rpc) instead of nodes
  RpcServerConfig rpc;
};

// One config per node: names and listen addresses filled in. Throws on a bad range.
std::vector<NodeConfig> expand_nodes(const RunOptions& options);

// Serves until SIGINT/SIGTERM. Prints one line per node: "node NAME listening on http://ADDR".
// A llama-server node with node.rpc attaches its rpc-servers first (rpc_links.hpp); with
// rpc_server set, runs that instead (rpc_server.hpp).
int run(const RunOptions& options);

}  // namespace hydra::sim
