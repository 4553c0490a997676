#include "agent/runner.hpp"

#include "agent/launcher.hpp"

#include "agent/register.hpp"
#include "agent/sampler.hpp"
#include "common/app_log.hpp"
#include "agent/server.hpp"
#include "http/server.hpp"
#include "http/tls.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace hydra::agent {

namespace asio = http::asio;

namespace {

std::string url_host(const http::tcp::endpoint& ep) {
  auto host = ep.address().to_string();
  return ep.address().is_v6() ? "[" + host + "]" : host;
}

}  // namespace

std::string bad_option(const AgentOptions& options) {
  if (!http::parse_endpoint(options.listen)) return "--listen: expected HOST:PORT, got \"" + options.listen + "\"";
  if (options.interval.count() <= 0) return "--interval-ms must be positive";
  if (!options.register_url.empty() && !parse_gateway_url(options.register_url))
    return "--register: expected http(s)://HOST[:PORT][/PATH], got \"" + options.register_url + "\"";
  if (!options.node_url.empty() && !parse_gateway_url(options.node_url))
    return "--node-url: expected http(s)://HOST[:PORT], got \"" + options.node_url + "\"";
  if (options.tls_cert.empty() != options.tls_key.empty()) return "--tls-cert and --tls-key go together";
  return {};
}

int run(const AgentOptions& options) {
  if (std::string bad = bad_option(options); !bad.empty()) throw std::runtime_error(bad);
  auto listen = http::parse_endpoint(options.listen);
  std::shared_ptr<http::ServerTls> tls;
  if (!options.tls_cert.empty()) tls = std::make_shared<http::ServerTls>(options.tls_cert, options.tls_key);

  configure_app_log("hydra-agent", options.log_level, LogFormat::text);

  Collector collector(options.collector);
  ReadingStore store;
  // The first reading is taken before the port opens, so that every answer has figures.
  store.publish(collector.collect());
  auto first = store.latest();
  spdlog::info("agent: GPU source {}, {} GPU(s)", to_string(first->gpu_source), first->gpus.size());
  for (const auto& w : first->warnings) spdlog::info("agent: {}", w);

  asio::io_context ioc(1);
  AgentServer server(ioc.get_executor(), store);
  if (tls) server.use_tls(tls);
  auto bound = server.listen(*listen);
  if (!bound) {
    fmt::print(stderr, "hydra agent: cannot listen on {}: {}\n", options.listen, bound.error().message());
    return 1;
  }
  const char* scheme = tls ? "https" : "http";
  fmt::print("agent listening on {}://{}:{}\n", scheme, url_host(*bound), bound->port());
  std::fflush(stdout);

  LauncherOptions lo;
  lo.binary = options.llama_server;
  lo.token = options.token;
  lo.host = !options.llama_host.empty() ? options.llama_host
            : bound->address().is_unspecified() ? primary_ipv4() : bound->address().to_string();
  Launcher launcher(ioc.get_executor(), lo);
  launcher.add_routes(server.router());
  if (!lo.binary.empty())
    spdlog::info("llama-server launcher: {} (servers listen on {}){}", lo.binary, lo.host,
                 lo.token.empty() ? "; off until --token is set" : "");

  Sampler sampler(collector, store, options.interval);
  sampler.start();

  std::unique_ptr<Registrar> registrar;
  if (!options.register_url.empty()) {
    RegisterOptions r;
    r.gateway = options.register_url;
    // A wildcard listen address means nothing to the gateway: advertise this machine's address.
    std::string advertised = bound->address().is_unspecified() ? primary_ipv4() : url_host(*bound);
    r.agent_url = fmt::format("{}://{}:{}", scheme, advertised, bound->port());
    r.node_url = options.node_url.empty() ? fmt::format("http://{}:11434", primary_ipv4()) : options.node_url;
    r.name = first->hostname;
    r.token = options.token;
    r.gateway_ca = options.gateway_ca;
    r.heartbeat = options.heartbeat;
    registrar = std::make_unique<Registrar>(ioc.get_executor(), std::move(r), store);
    registrar->start();
  }

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  std::signal(SIGHUP, SIG_IGN);  // nothing to re-read; a `kill -HUP` meant for the gateway must not end it
  signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
  ioc.run();
  sampler.stop();
  return 0;
}

}  // namespace hydra::agent
