#pragma once
// Continuous discovery for `hydra serve`: scan the configured ranges every interval; every
// Ollama node found joins the cluster as "discovered", and is forgotten when scans stop
// finding it for longer than the grace period.
#include "cluster/cluster.hpp"
#include "cluster/scanner.hpp"

namespace hydra::cluster {

struct DiscoverySettings {
  ScanOptions scan;
  std::chrono::milliseconds interval{60'000};
  Nanos grace = std::chrono::seconds(30);
};

// Runs until the io_context stops. Single-threaded, on the cluster's executor.
http::awaitable<void> run_discovery(Cluster& cluster, DiscoverySettings settings);

}  // namespace hydra::cluster
