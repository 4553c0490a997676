#pragma once
// The llama.cpp rpc-servers the gateway knows (configured, or found by discovery), probed
// every few seconds (cluster/rpc_probe.hpp) and published in the cluster's snapshot for
// /nodes, `hydra nodes`, the dashboard and /metrics. The servers a coordinator of Hydra's is
// attached to are not probed (they would answer nobody while it is): they show as busy, in use
// by that coordinator's model. Runs on the control thread; every call comes from there.
#include "cluster/cluster.hpp"
#include "cluster/rpc_probe.hpp"

#include <boost/asio/steady_timer.hpp>

namespace hydra::cluster {

class RpcWatch {
public:
  RpcWatch(http::asio::any_io_executor executor, Cluster& cluster, std::chrono::milliseconds interval,
           std::chrono::milliseconds timeout);

  // A configured server, "host:port" (port 50052 when left out); resolved now (start-up:
  // throws on a bad or unknown host). Returns its "ip:port".
  std::string add_configured(const std::string& address);
  // The servers the last discovery scan found ("ip:port"); ones it no longer finds go, unless
  // configured too.
  void set_discovered(const std::vector<std::string>& endpoints);

  // Starts the probe loop.
  void start();
  // Probes every server not in use now (before a shard plan), one at a time; while a round
  // runs already, waits for its end.
  http::awaitable<void> probe_now();

  // A coordinator of Hydra's attached to these servers / left them.
  void mark_in_use(const std::vector<std::string>& endpoints, const std::string& model);
  void release(const std::string& model);

  const std::vector<RpcServerView>& servers() const { return servers_; }

private:
  http::awaitable<void> loop();
  void publish();
  RpcServerView* find(const std::string& endpoint);

  http::asio::any_io_executor executor_;
  Cluster& cluster_;
  std::chrono::milliseconds interval_, timeout_;
  http::asio::steady_timer wake_;
  std::vector<RpcServerView> servers_;
  std::shared_ptr<http::asio::steady_timer> round_;  // while a probe round runs; cancelled at its end
};

}  // namespace hydra::cluster
