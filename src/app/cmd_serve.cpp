// `hydra serve`: the gateway.
#include "api/gateway.hpp"
#include "api/model_caller.hpp"
#include "api/shared_sync.hpp"
#include "api/threading.hpp"
#include "app/allocator.hpp"
#include "app/commands.hpp"
#include "api/shards.hpp"
#include "cluster/rpc_watch.hpp"
#include "app/config.hpp"
#include "memory/cache.hpp"
#include "app/version.hpp"
#include "cluster/cluster.hpp"
#include "common/thread_name.hpp"
#include "cluster/discovery.hpp"
#include "common/app_log.hpp"
#include "common/spawn.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/threads.hpp"
#include "http/tls.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <unistd.h>
#include <thread>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace hydra::app {

namespace asio = boost::asio;

namespace {

// A gateway's default id: its API's host:port, with the machine's name for an address that is
// every interface's (0.0.0.0:8001 would name every such gateway alike).
std::string gateway_id_of(const http::tcp::endpoint& ep) {
  if (!ep.address().is_unspecified()) return fmt::format("{}:{}", ep.address().to_string(), ep.port());
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return fmt::format("{}:{}", host, ep.port());
}

std::string url_of(const http::tcp::endpoint& ep, bool tls) {
  auto host = ep.address().to_string();
  return fmt::format("{}://{}:{}", tls ? "https" : "http", ep.address().is_v6() ? "[" + host + "]" : host, ep.port());
}

// TLS set-up from the settings (start-up: throws ConfigError). Null when TLS is off.
std::shared_ptr<http::ServerTls> server_tls(const ServeConfig& config) {
  if (config.tls_cert.empty()) return nullptr;
  try {
    return std::make_shared<http::ServerTls>(config.tls_cert, config.tls_key);
  } catch (const std::runtime_error& e) {
    throw ConfigError(fmt::format("setting tls.cert/tls.key: {}", e.what()));
  }
}

void client_tls(const ServeConfig& config, http::ConnectionPool& pool) {
  if (config.tls_node_ca.empty()) return;  // the system's CAs, loaded on first use
  std::string error;
  auto ctx = http::make_client_context(config.tls_node_ca, error);
  if (!ctx) throw ConfigError("setting tls.node_ca: " + error);
  pool.set_tls(std::move(ctx));
}

// SIGHUP: everything that can be re-read without a restart, one callback each; each says
// itself what it did. Caught even when the list is empty (SIGHUP would end the process).
using Reloads = std::vector<std::function<void()>>;

// The certificate's summary says EXPIRED / NOT YET VALID in front when clients will refuse it.
bool refused_by_clients(const std::string& summary) {
  return summary.starts_with("EXPIRED") || summary.starts_with("NOT YET VALID");
}

void add_tls_reload(Reloads& reloads, std::shared_ptr<http::ServerTls> tls) {
  if (!tls) return;
  reloads.push_back([tls] {
    std::string error = tls->reload();
    const std::string summary = tls->summary();
    const bool expired = refused_by_clients(summary);
    if (error.empty())
      spdlog::log(expired ? spdlog::level::warn : spdlog::level::info,
                  "TLS: certificate and key reloaded from {} ({}); new connections use them{}", tls->cert_file(),
                  summary, expired ? ": clients will refuse it" : "");
    else spdlog::error("TLS: reload failed, new connections keep the current certificate: {}", error);
  });
}

// After the first probe round: say what the fleet looks like, and what to do if it is empty.
void report_fleet(const cluster::Snapshot& s) {
  std::size_t up = 0;
  std::set<std::string> models;  // a model on three nodes is one model
  for (const auto& n : s.nodes) {
    if (!n.routable()) continue;
    ++up;
    for (const auto& m : n.models) models.insert(m.name);
  }
  if (up == 0) {
    std::string tried;
    for (const auto& n : s.nodes) tried += (tried.empty() ? "" : ", ") + n.url;
    fmt::print(stderr,
               "hydra serve: no Ollama node is reachable (tried {}).\n"
               "  Start `ollama serve` there, pass --node URL (or HYDRA_NODES), or run `make demo`\n"
               "  to try Hydra with emulated nodes. `hydra diag URL` explains what is wrong with a node.\n"
               "  Hydra keeps probing and will use nodes as they come up.\n",
               tried.empty() ? "none" : tried);
    return;
  }
  fmt::print("hydra serve: {} of {} nodes reachable, {} distinct models on disk across them\n", up, s.nodes.size(),
             models.size());
}

// An io_context that destroys what is still pending (coroutine frames) on demand, while the
// objects those frames refer to still exist; ~io_context alone would do it after they are gone.
class ServeContext : public asio::io_context {
public:
  using asio::io_context::io_context;
  void destroy_pending() { shutdown(); }
};

// A worker thread (threads > 1: threads - 1 of them, beside the control thread, which serves
// too): its own event loop, upstream pool and API acceptor.
struct Worker {
  explicit Worker(const ServeConfig& config) : pool(ioc.get_executor()) {
    pool.set_idle_timeout(config.pool_idle);
    client_tls(config, pool);
  }
  ServeContext ioc{1};
  http::ConnectionPool pool;
  std::unique_ptr<http::Server> server;
  std::thread thread;
};

int thread_count(const ServeConfig& config) {
  if (config.threads > 0) return config.threads;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// The API's acceptors: the control thread's, and with workers one per worker on the same port
// (SO_REUSEPORT; the first picks the port when it is 0, and fails when another process holds
// it). Throws when the port cannot be had.
http::tcp::endpoint listen_api(const ServeConfig& config, http::Server& control, std::vector<std::unique_ptr<Worker>>& workers) {
  auto endpoint = *http::parse_endpoint(config.listen);
  auto fail = [&](const boost::system::error_code& ec) {
    // A port that cannot be had is a failure (exit 1), not a usage error.
    return std::runtime_error(fmt::format("cannot listen on {}: {}", config.listen, ec.message()));
  };
  {
    auto bound = control.listen(endpoint, workers.empty() ? http::Server::Share::none : http::Server::Share::first);
    if (!bound) throw fail(bound.error());
    endpoint = *bound;
  }
  for (auto& w : workers) {
    auto bound = w->server->listen(endpoint, http::Server::Share::join);
    if (!bound) throw fail(bound.error());
    endpoint = *bound;
  }
  return endpoint;
}

// No keys: the API is open, as Ollama's is. Say so when that reaches beyond this machine.
void warn_if_open(const api::AuthSettings& auth, const api::RegistrationSettings& registration,
                  const std::string& listen) {
  if (!auth.keys->empty()) {
    spdlog::info("API keys: {} configured; requests without one get 401", auth.keys->keys.size());
    return;
  }
  if (!auth.exposed) return;
  spdlog::warn("no API keys are configured and the API listens on {}: anyone who can reach it may use every node "
               "(see the README's Security section: `hydra keys new`)",
               listen);
  if (registration.token.empty() && !auth.open_registration)
    spdlog::warn("node registration and deletion are refused (no registration token, no API keys); set "
                 "discovery.token or discovery.open_registration = true to allow them");
}

void reload_keys(api::AuthSettings& auth, const std::vector<std::string>& files) {
  if (files.empty()) {
    spdlog::info("SIGHUP: no config file or keys file to read API keys from");
    return;
  }
  try {
    auto keys = auth::load_key_set(files);
    if (keys->empty() && !auth.keys->empty())
      spdlog::warn("SIGHUP: no API keys are configured any more: the API is open to anyone who can reach it");
    auth.keys = std::move(keys);
    spdlog::info("SIGHUP: API keys read again: {} configured", auth.keys->keys.size());
  } catch (const std::exception& e) {
    spdlog::error("SIGHUP: API keys not changed: {}", e.what());
  }
}

// The first signal: stop accepting, let requests in progress finish within the grace period,
// then end the rest with an error in their API's shape, leave the shared state (several
// gateways), and stop the event loop.
http::awaitable<void> drain(ServeContext& ioc, api::Lifecycle& life, api::Admission& admission,
                            std::chrono::milliseconds grace, std::vector<http::Server*> servers,
                            api::SharedSync* shared) {
  for (auto* s : servers) s->drain();
  life.drain();
  spdlog::info("shutting down: no new connections; {} request(s) in progress have {:g} s to finish", life.active(),
               std::chrono::duration<double>(grace).count());
  co_await life.idle(std::chrono::steady_clock::now() + grace);
  if (life.active() > 0) {
    spdlog::warn("shutdown grace period over: ending {} request(s) with an error", life.active());
    life.stop();
    admission.close();
    co_await life.idle(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  }
  if (shared) co_await shared->leave();  // its requests are over: nothing it holds is in use
  ioc.stop();
}

int serve(const ServeConfig& config) {
  configure_app_log("hydra", config.log_level, config.log_format == "json" ? LogFormat::json : LogFormat::text);
  // A write to a peer that went away is an error to handle, not the end of the gateway: Asio's
  // sockets send with MSG_NOSIGNAL, but hiredis writes to Redis with plain send(), so a Redis
  // killed mid-conversation raised SIGPIPE. (Children get the default back: agent/child_spawn.hpp.)
  std::signal(SIGPIPE, SIG_IGN);
  // At start-up: pages go back to the system off the event loops (app/allocator.hpp).
  if (return_memory_in_background()) spdlog::debug("allocator: jemalloc, returning memory from a background thread");

  auto tls = server_tls(config);
  if (tls) {
    const std::string summary = tls->summary();
    const bool expired = refused_by_clients(summary);
    spdlog::log(expired ? spdlog::level::warn : spdlog::level::info, "TLS: serving HTTPS with {} ({}){}",
                config.tls_cert, summary, expired ? ": clients will refuse it" : "");
  }
  const int threads = thread_count(config);
  // The control thread (http/threads.hpp). It serves connections too: a request it accepts
  // needs no hop to reach the state the control thread owns. threads - 1 workers beside it.
  ServeContext ioc(1);
  http::ConnectionPool pool(ioc.get_executor());
  pool.set_idle_timeout(config.pool_idle);
  client_tls(config, pool);
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<asio::any_io_executor> executors{ioc.get_executor()};
  std::vector<http::ConnectionPool*> pools{&pool};
  for (int i = 1; i < threads; ++i) {
    workers.push_back(std::make_unique<Worker>(config));
    executors.push_back(workers.back()->ioc.get_executor());
    pools.push_back(&workers.back()->pool);
  }
  cluster::HealthSettings health = config.health;
  health.agents = config.vram_monitoring;
  cluster::Cluster fleet(ioc.get_executor(), pool, health, SystemClock::instance());
  std::vector<std::string> nodes = config.nodes;
  if (nodes.empty()) nodes.push_back("http://127.0.0.1:11434");  // a local Ollama, if there is one
  for (const auto& text : nodes) {
    auto url = cluster::parse_node_url(text);
    if (!url) throw ConfigError(fmt::format("setting nodes: bad node URL \"{}\" (expected http://HOST:PORT)", text));
    fleet.add_node(*url);
  }

  routing::SystemRandom random;
  api::Admission admission(ioc.get_executor(), config.queue, SystemClock::instance(),
                           [&fleet] { return fleet.snapshot(); });
  telemetry::Telemetry telemetry;
  if (std::string error = telemetry.access.open(*telemetry::parse_access_format(config.access_log), config.access_log_file);
      !error.empty())
    throw ConfigError(fmt::format("setting log.access_file ({}): {}", config.origins.count("log.access_file")
                                                                           ? config.origins.at("log.access_file")
                                                                           : "default",
                                  error));
  api::Lifecycle lifecycle(ioc.get_executor());
  api::Gateway gateway{fleet,     pools,     ioc.get_executor(), {}, random, admission, telemetry, lifecycle,
                       config.relay, config.weights, config.registration, kVersion, config.orchestration,
                       nullptr,   nullptr,   std::chrono::steady_clock::now()};
  // Orchestration runs are kept in <data_dir>/hydra.db (GET /orchestrate/{task_id}).
  orchestrate::RunStore runs(config.data_dir + "/hydra.db");
  api::GatewayCaller caller(gateway);
  orchestrate::Orchestrator orchestrator(ioc.get_executor(), caller, config.orchestration, &runs);
  gateway.orchestrator = &orchestrator;
  gateway.policy = config.policy;
  if (config.policy != routing::Policy::scored)
    spdlog::warn("routing.policy = {}: a baseline for benchmarks, blind to residency and memory", routing::to_string(config.policy));
  gateway.runs = &runs;
  // The response cache: in process, and in <data_dir>/cache.db across restarts.
  std::unique_ptr<memory::Cache> cache;
  if (config.cache.mode != memory::Mode::off) {
    memory::CacheSettings cs = config.cache;
    cs.l2_path = config.data_dir + "/cache.db";
    cache = std::make_unique<memory::Cache>(std::move(cs));
    gateway.cache = cache.get();
  }
  // llama.cpp rpc-servers (configured, and found by discovery) and the models sharded over them.
  cluster::RpcWatch rpc_watch(ioc.get_executor(), fleet, std::chrono::seconds(5), std::chrono::milliseconds(500));
  std::unique_ptr<api::Shards> shards;
  try {
    for (const auto& r : config.rpc_servers) rpc_watch.add_configured(r);
  } catch (const std::runtime_error& e) {
    throw ConfigError(fmt::format("setting rpc_servers: {}", e.what()));
  }
  if (!config.sharded.empty()) {
    try {
      shards = std::make_unique<api::Shards>(gateway, rpc_watch, config.sharded, config.registration.token);
    } catch (const std::runtime_error& e) {
      throw ConfigError(fmt::format("setting [[sharded]]: {}", e.what()));
    }
    gateway.shards = shards.get();
    spdlog::info("sharded models: {} (over llama.cpp rpc-servers; started on first request)", config.sharded.size());
  }
  gateway.threads = threads;
  for (std::size_t i = 1; i < executors.size(); ++i) gateway.workers.push_back(executors[i]);
  telemetry.tallies.resize(executors.size());  // a worker records into its own (telemetry/tally.hpp)
  for (std::size_t i = 1; i < executors.size(); ++i) telemetry.tallies[i] = std::make_unique<telemetry::Tally>();
  gateway.auth.keys = config.keys;
  gateway.auth.metrics_admin = config.metrics_admin;
  gateway.auth.open_registration = config.open_registration;
  gateway.auth.cors.origins = config.cors_origins;
  gateway.auth.exposed = !http::parse_endpoint(config.listen)->address().is_loopback();
  warn_if_open(gateway.auth, gateway.registration, config.listen);
  // Every reply counted by route and status (/stats, hydra_http_requests_total), on the thread
  // that served it (`route` names one of the router's own).
  auto count_reply = [&gateway](std::string_view route, int status, std::chrono::nanoseconds took) {
    telemetry::Recorder to = gateway.recorder();
    to.requests().record(route, status, took);
    to.metrics().http_request(route, status);
  };
  auto observer = [count_reply](std::string_view route, const http::Exchange& ex, std::chrono::nanoseconds took) {
    count_reply(route, ex.status(), took);
  };
  // A request refused before a handler (413, 431, 408, 400) is logged (api::refusals) and
  // counted with the route its path names.
  auto refusals = [&gateway, count_reply](const http::Router& by) -> http::RefusalHook {
    return [log = api::refusals(gateway), &by, count_reply](const http::Refused& r, http::Response& res) {
      log(r, res);
      count_reply(by.route_of(r.target.substr(0, r.target.find('?'))), r.status, {});
    };
  };
  telemetry.routing.listen([&telemetry](const telemetry::RoutingEvent& e) {
    if (telemetry.events.subscribers()) telemetry.events.publish("routing", telemetry::to_json(e));
  });
  // Several gateways: each one's requests (with their routing decisions) reach every dashboard
  // through the channel: one message per request.
  telemetry.request_log.listen([&telemetry, &gateway](const telemetry::RequestRecord& r) {
    const bool shared = gateway.shared && !gateway.shared->degraded();
    if (!telemetry.events.subscribers() && !shared) return;
    auto o = telemetry::to_json(r);
    if (telemetry.events.subscribers()) telemetry.events.publish("request", o);
    if (shared) gateway.shared->shared().publish("request", boost::json::serialize(o));
  });
  http::Router router;
  router.observe(observer);
  api::add_all_routes(router, gateway);
  api::add_api_misses(router);
  // The dashboard's port serves the page and the read-only views it needs (api::Port::dashboard:
  // the guard answers 404 for the rest); the playground calls the API's port.
  http::Router dashboard_router;
  dashboard_router.observe(observer);
  api::add_web_routes(dashboard_router);  // first: "/" is the page here
  api::add_all_routes(dashboard_router, gateway);
  http::ServerLimits limits;
  limits.body_limit = config.body_limit_mb << 20;
  limits.header_timeout = config.header_timeout;
  limits.body_min_rate = config.body_min_rate_kb << 10;
  limits.body_window = config.body_window;
  const http::Handler api_handler =
      api::threaded(gateway, api::guarded(gateway, router.handler(), api::Port::api));
  http::Server control_server(ioc.get_executor(), api_handler, limits);  // the control thread's
  for (auto& w : workers) w->server = std::make_unique<http::Server>(w->ioc.get_executor(), api_handler, limits);
  std::vector<http::Server*> servers{&control_server};
  for (auto& w : workers) servers.push_back(w->server.get());
  for (auto* s : servers) {
    s->on_refusal(refusals(router));
    if (tls) s->use_tls(tls);
  }
  auto bound = listen_api(config, control_server, workers);
  fmt::print("hydra serve: Ollama API on {}\n", url_of(bound, tls != nullptr));
  if (threads == 1) spdlog::info("serving on one thread (threads = 1)");
  else
    spdlog::info("serving on {} threads: the control thread and {} worker{}", threads, threads - 1, threads == 2 ? "" : "s");
  gateway.api_port = bound.port();
  // Several gateways (cluster.redis_url): the state they share. Declared in this order so that
  // Redis's threads stop before the sync they call into goes.
  std::unique_ptr<api::SharedSync> sync;
  std::unique_ptr<state::Shared> shared;
  if (!config.redis_url.empty()) {
    std::string error;
    state::SharedSettings ss = config.shared;
    if (ss.gateway_id.empty()) ss.gateway_id = gateway_id_of(bound);
    shared = std::make_unique<state::Shared>(*state::parse_redis_url(config.redis_url, error), ss);
    sync = std::make_unique<api::SharedSync>(gateway, *shared, url_of(bound, tls != nullptr));
    gateway.shared = sync.get();
    admission.share_with(sync.get());
    runs.mirror([&gateway](const std::string& id, const std::string& json) {
      if (gateway.shared && !gateway.shared->degraded()) gateway.shared->put_run(id, json);
    });
    sync->start();
    spdlog::info("shared state: gateway {} shares the fleet through Redis at {} (prefix {}, leases return {:g} s after "
                 "a gateway stops)",
                 ss.gateway_id, state::without_password(config.redis_url), ss.prefix, std::chrono::duration<double>(ss.lease_ttl).count());
  }
  http::Server dashboard(ioc.get_executor(),
                         api::guarded(gateway, dashboard_router.handler(), api::Port::dashboard),
                         limits);
  if (tls) dashboard.use_tls(tls);
  dashboard.on_refusal(refusals(dashboard_router));
  if (config.dashboard_enabled) {
    // A busy dashboard port stops start-up as a busy API port does: a gateway whose dashboard
    // silently went missing is found out too late.
    auto shown = dashboard.listen(*http::parse_endpoint(config.dashboard_listen));
    if (!shown)
      throw std::runtime_error(fmt::format("dashboard: cannot listen on {}: {} (choose another with "
                                    "--dashboard-listen, or turn the dashboard off with HYDRA_DASHBOARD=false)",
                                    config.dashboard_listen, shown.error().message()));
    fmt::print("hydra serve: dashboard on {}\n", url_of(*shown, tls != nullptr));
    gateway.auth.cors.dashboard_port = shown->port();  // its playground calls the API from there
  }
  std::fflush(stdout);
  asio::co_spawn(ioc, api::publish_live(gateway), hydra::logged("the dashboard's live publisher"));
  rpc_watch.start();
  if (shards) shards->start();

  asio::co_spawn(ioc, [&]() -> http::awaitable<void> {
    co_await fleet.probe_all_once();
    report_fleet(*fleet.snapshot());
    std::fflush(stdout);
    fleet.start();
  }, [&fleet](std::exception_ptr e) {
    hydra::log_exception(e, "the first probe round");
    fleet.start();  // the probe loops run whatever happened to the first round
  });
  if (config.discovery) {
    cluster::DiscoverySettings discovery;
    discovery.scan.targets = config.discovery_targets.empty() ? cluster::default_targets(cluster::local_interfaces())
                                                              : config.discovery_targets;
    discovery.scan.ports = config.discovery_ports;
    discovery.scan.rpc_ports = config.discovery_rpc_ports;
    for (const auto& i : cluster::local_interfaces())
      if (!i.loopback) discovery.scan.local_addresses.push_back(i.address);
    discovery.scan.allowed = config.registration.allowed;
    discovery.scan.connect_timeout = std::chrono::milliseconds(static_cast<int64_t>(config.discovery_timeout_s * 1000));
    discovery.interval = config.discovery_interval;
    discovery.grace = config.registration.grace;
    spdlog::info("discovery: scanning {} range(s) every {:g} s", discovery.scan.targets.size(),
                 std::chrono::duration<double>(discovery.interval).count());
    asio::co_spawn(ioc, cluster::run_discovery(fleet, rpc_watch, std::move(discovery)), hydra::logged("discovery"));
  }

  // SIGTERM/SIGINT: drain (see drain()); a second signal stops at once.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  int signalled = 0;
  std::function<void()> on_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (++signalled > 1) {
        spdlog::warn("second signal: stopping now");
        ioc.stop();
        return;
      }
      std::vector<http::Server*> all = servers;
      all.push_back(&dashboard);
      asio::co_spawn(ioc, drain(ioc, lifecycle, admission, config.shutdown_grace, std::move(all), gateway.shared),
                     hydra::logged("the shutdown drain"));
      on_signal();
    });
  };
  on_signal();

  // SIGHUP: one callback per thing that can be re-read without a restart (see Reloads).
  Reloads reloads;
  add_tls_reload(reloads, tls);
  // The API keys again (added and revoked keys take effect for new requests; requests in
  // progress keep the key they came with).
  reloads.push_back([&] { reload_keys(gateway.auth, config.key_files); });
  reloads.push_back([&] {  // the access log's file, after logrotate moved it
    if (std::string error = telemetry.access.reopen(); !error.empty()) spdlog::error("access log: {}", error);
    else if (!config.access_log_file.empty()) spdlog::info("access log: {} reopened", config.access_log_file);
  });
  asio::signal_set hangups(ioc, SIGHUP);
  std::function<void()> on_hangup = [&] {
    hangups.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      spdlog::info("SIGHUP: reloading ({} item(s))", reloads.size());
      for (const auto& reload : reloads) reload();
      on_hangup();
    });
  };
  on_hangup();
  // The workers run until the control thread stops (kept alive by a work guard meanwhile).
  using Guard = asio::executor_work_guard<asio::io_context::executor_type>;
  std::vector<Guard> keep;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    Worker& w = *workers[i];
    keep.emplace_back(w.ioc.get_executor());
    w.thread = named_thread(fmt::format("hydra-w{}", i + 1), [&w, index = static_cast<int>(i + 1)] {
      http::set_thread_index(index);
      http::set_thread_loop(w.ioc.get_executor());
      w.ioc.run();
    });
  }
  ioc.run();
  for (auto& w : workers) w->ioc.stop();
  for (auto& w : workers) w->thread.join();
  // What is left (idle connections, probe loops, requests cut by a second signal) is destroyed
  // here, before the objects it refers to; a lease given back now hands nothing on.
  lifecycle.stop();
  admission.close();
  for (auto& w : workers) w->ioc.destroy_pending();
  ioc.destroy_pending();
  spdlog::info("hydra serve: stopped");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, std::function<int()>& run) {
  struct Flags {
    std::map<std::string, std::string> values;
    std::vector<std::string> nodes;
    std::string config;
  };
  auto flags = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("serve", "run the gateway in front of a fleet of Ollama nodes");
  auto text_flag = [&](const char* name, const char* help) {
    cmd->add_option_function<std::string>(std::string("--") + name,
                                          [flags, name](const std::string& v) { flags->values[name] = v; }, help);
  };
  text_flag("listen", "HOST:PORT of the Ollama-compatible API (default 127.0.0.1:8001)");
  text_flag("redis-url", "several gateways: the Redis they share the fleet's state through (cluster.redis_url)");
  text_flag("gateway-id", "this gateway's name among several (default: the API's host:port)");
  text_flag("threads", "threads serving the API: the control thread and threads - 1 workers (default: one per core)");
  text_flag("dashboard-listen", "HOST:PORT of the dashboard (default 127.0.0.1:8080)");
  text_flag("data-dir", "where Hydra keeps its data");
  text_flag("log-level", "trace, debug, info, warn, error, critical or off (default info)");
  text_flag("log-format", "the application log: text or json (default text)");
  text_flag("access-log", "one line per request: off, text or json (default text)");
  text_flag("access-log-file", "append the access log to this file (default: stderr; reopened on SIGHUP)");
  text_flag("tls-cert", "PEM certificate chain: serve the API and the dashboard over HTTPS (with --tls-key)");
  text_flag("tls-key", "PEM private key of --tls-cert");
  text_flag("tls-node-ca", "PEM CA file https:// nodes are verified with (default: the system's CAs)");
  cmd->add_option("--node", flags->nodes, "an Ollama or llama-server node URL, e.g. http://10.0.0.5:11434");
  cmd->add_option("--config", flags->config, "TOML config file (also HYDRA_CONFIG)");
  cmd->add_flag_callback("--no-discovery", [flags] { flags->values["no-discovery"] = "1"; },
                         "use only the configured nodes");
  cmd->footer("Environment: " + [] {
    std::string out;
    for (const auto& n : config_env_names()) out += (out.empty() ? "" : ", ") + n;
    return out;
  }() + "\nPrecedence: flags > environment > config file > defaults.");
  cmd->callback([&run, flags] {
    run = [flags] {
      try {
        return serve(resolve_config(gather_sources(flags->values, flags->nodes, flags->config)));
      } catch (const ConfigError& e) {
        fmt::print(stderr, "hydra serve: {}\n", e.what());
        return 2;
      }
    };
  });
}

}  // namespace hydra::app
