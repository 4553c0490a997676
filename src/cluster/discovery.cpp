#include "cluster/discovery.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <algorithm>
#include <spdlog/spdlog.h>

namespace hydra::cluster {

bool known_as_loopback(const Ipv4& address, uint16_t port, const std::vector<Ipv4>& local_addresses,
                       const Snapshot& snapshot) {
  if (std::find(local_addresses.begin(), local_addresses.end(), address) == local_addresses.end()) return false;
  for (const auto& n : snapshot.nodes) {
    if (n.removed || n.port != port) continue;
    boost::system::error_code ec;
    auto ip = boost::asio::ip::make_address(n.ip, ec);
    if (!ec && ip.is_loopback()) return true;
  }
  return false;
}

http::awaitable<void> run_discovery(Cluster& cluster, RpcWatch& rpc_watch, DiscoverySettings settings) {
  auto executor = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer timer(executor);
  std::size_t last_found = static_cast<std::size_t>(-1);
  for (;;) {
    ScanResult result = co_await scan(executor, nullptr, settings.scan);
    if (!result.error.empty()) {
      spdlog::error("discovery: {}", result.error);
      co_return;
    }
    std::size_t found = 0;
    for (const auto& node : result.nodes) {
      if (node.kind != ServerKind::ollama) continue;
      if (known_as_loopback(node.address, node.port, settings.scan.local_addresses, *cluster.snapshot())) continue;
      Cluster::Registration r;
      r.url.host = node.address.to_string();
      r.url.port = node.port;
      // Found again within interval + grace, or forgotten.
      cluster.register_node(r, settings.interval + settings.grace, NodeSource::discovered);
      ++found;
    }
    std::vector<std::string> rpc;
    for (const auto& r : result.rpc) rpc.push_back(r.id());
    rpc_watch.set_discovered(rpc);
    if (found != last_found)
      spdlog::info("discovery: {} Ollama node(s) found in {} addresses ({:.0f} ms)", found,
                   result.addresses_probed, result.elapsed_ms);
    last_found = found;
    timer.expires_after(settings.interval);
    co_await timer.async_wait(http::use_nothrow);
  }
}

}  // namespace hydra::cluster
