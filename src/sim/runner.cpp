#include "sim/runner.hpp"

#include "http/server.hpp"
#include "http/tls.hpp"
#include "sim/node.hpp"
#include "sim/rpc_links.hpp"
#include "sim/rpc_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace hydra::sim {

namespace asio = boost::asio;

std::vector<NodeConfig> expand_nodes(const RunOptions& options) {
  auto base = http::parse_endpoint(options.node.listen);
  if (!base) throw std::runtime_error("--listen: expected HOST:PORT, got \"" + options.node.listen + "\"");
  std::vector<NodeConfig> out;
  if (!options.addresses.empty()) {
    auto dash = options.addresses.find('-');
    boost::system::error_code ec1, ec2;
    auto first = asio::ip::make_address_v4(options.addresses.substr(0, dash), ec1);
    auto last = dash == std::string::npos ? first
                                          : asio::ip::make_address_v4(options.addresses.substr(dash + 1), ec2);
    if (ec1 || ec2 || last.to_uint() < first.to_uint() || last.to_uint() - first.to_uint() >= 65536)
      throw std::runtime_error("--addresses: expected an IPv4 range like 127.0.0.2-127.0.0.40");
    for (uint32_t a = first.to_uint(); a <= last.to_uint(); ++a) {
      NodeConfig c = options.node;
      auto address = asio::ip::address_v4(a).to_string();
      c.name = fmt::format("{}-{}", options.node.name, address);
      c.listen = fmt::format("{}:{}", address, base->port());
      out.push_back(std::move(c));
    }
    return out;
  }
  if (options.nodes < 1) throw std::runtime_error("--nodes must be at least 1");
  if (base->port() != 0 && base->port() + options.nodes - 1 > 65535)
    throw std::runtime_error("--nodes: the port range runs past 65535");
  for (int i = 0; i < options.nodes; ++i) {
    NodeConfig c = options.node;
    if (options.nodes > 1) {
      c.name = fmt::format("{}-{}", options.node.name, i + 1);
      unsigned port = base->port() == 0 ? 0 : base->port() + i;
      auto host = base->address().to_string();
      c.listen = base->address().is_v6() ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
    }
    out.push_back(std::move(c));
  }
  return out;
}

int run(const RunOptions& options) {
  if (options.rpc_server) return run_rpc_server(options.rpc);
  auto configs = expand_nodes(options);
  if (!options.node.rpc.empty() && configs.size() != 1)
    throw std::runtime_error("--rpc goes with one node (an rpc-server serves one llama-server)");
  std::shared_ptr<const ReplyBook> replies =
      options.node.script.empty() ? std::make_shared<ReplyBook>()
                                  : std::make_shared<ReplyBook>(ReplyBook::from_file(options.node.script));
  std::shared_ptr<http::ServerTls> tls;
  if (!options.node.tls_cert.empty() || !options.node.tls_key.empty()) {
    if (options.node.tls_cert.empty() || options.node.tls_key.empty())
      throw std::runtime_error("--tls-cert and --tls-key go together");
    tls = std::make_shared<http::ServerTls>(options.node.tls_cert, options.node.tls_key);
  }
  asio::io_context ioc(1);
  // As llama-server registers its RPC devices before it serves anything: a dead one ends the
  // start, a busy one (another client attached) makes it wait.
  std::vector<std::unique_ptr<RpcLink>> links;
  try {
    links = attach_rpc_servers(ioc, options.node.rpc);
  } catch (const std::exception& e) {
    fmt::print(stderr, "hydra sim: {}\n", e.what());
    return 1;
  }
  watch_rpc_links(links);
  std::vector<std::unique_ptr<Node>> nodes;
  nodes.reserve(configs.size());
  for (auto& config : configs) {
    auto node = std::make_unique<Node>(ioc.get_executor(), config, SystemClock::instance(), replies);
    if (tls) node->use_tls(tls);
    auto bound = node->start();
    if (!bound) {
      fmt::print(stderr, "hydra sim: cannot listen on {}: {}\n", config.listen, bound.error().message());
      return 1;
    }
    auto ep = *bound;
    auto host = ep.address().to_string();
    fmt::print("node {} listening on {}://{}:{}\n", config.name, tls ? "https" : "http",
               ep.address().is_v6() ? "[" + host + "]" : host, ep.port());
    nodes.push_back(std::move(node));
  }
  std::fflush(stdout);
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  std::signal(SIGHUP, SIG_IGN);  // nothing to re-read; a `kill -HUP` meant for the gateway must not end it
  signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
  ioc.run();
  return 0;
}

}  // namespace hydra::sim
