#pragma once
// Continuous discovery for `hydra serve`: scan the configured ranges every interval; every
// Ollama node found joins the cluster as "discovered", and is forgotten when scans stop
// finding it for longer than the grace period.
#include "cluster/cluster.hpp"
#include "cluster/rpc_watch.hpp"
#include "cluster/scanner.hpp"

namespace hydra::cluster {

struct DiscoverySettings {
  ScanOptions scan;
  std::chrono::milliseconds interval{60'000};
  Nanos grace = std::chrono::seconds(30);
};

// Whether a node found at `address:port` is one the gateway already has under a loopback
// address: the found address is one of this machine's own and a node "127.0.0.1:port" (or
// "localhost:port") is known. Then it is the same Ollama, reached another way, and is skipped.
bool known_as_loopback(const Ipv4& address, uint16_t port, const std::vector<Ipv4>& local_addresses,
                       const Snapshot& snapshot);

// Runs until the io_context stops. Single-threaded, on the cluster's executor. The rpc-servers
// found go to `rpc`.
http::awaitable<void> run_discovery(Cluster& cluster, RpcWatch& rpc, DiscoverySettings settings);

}  // namespace hydra::cluster
