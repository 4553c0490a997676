// `hydra diag [URL...]`: checks each node step by step and explains what is wrong (see
// cluster/diagnose.hpp). Nodes: those given, else those `hydra serve` would use (--config,
// HYDRA_NODES), else the local Ollama. Exit status 0 when every node passed, 1 when any failed.
#include "app/commands.hpp"
#include "app/config.hpp"
#include "cluster/diagnose.hpp"
#include "http/tls.hpp"

#include <boost/asio/co_spawn.hpp>
#include "common/spawn.hpp"
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace hydra::app {

namespace {

struct DiagArgs {
  std::vector<std::string> nodes;
  std::string config;
  std::string node_ca;  // --tls-node-ca; else tls.node_ca from the configuration
  int timeout_ms = 3000;
  bool json = false;
};

int bad(const std::string& message) {
  fmt::print(stderr, "hydra diag: {}\n", message);
  return 2;
}

void print_text(const cluster::Diagnosis& d) {
  fmt::print("{}\n", d.url);
  for (const auto& c : d.checks) {
    // A failure stands out in capitals.
    std::string level = c.level == cluster::Check::Level::fail ? "FAIL" : cluster::to_string(c.level);
    fmt::print("  {:<4}  {:<8} {}\n", level, c.step, c.detail);
    if (!c.advice.empty()) fmt::print("        {:<8} -> {}\n", "", c.advice);
  }
}

boost::json::object to_json(const cluster::Diagnosis& d) {
  boost::json::array checks;
  for (const auto& c : d.checks) {
    boost::json::object o;
    o["step"] = c.step;
    o["level"] = cluster::to_string(c.level);
    o["detail"] = c.detail;
    if (!c.advice.empty()) o["advice"] = c.advice;
    checks.push_back(std::move(o));
  }
  boost::json::object out;
  out["url"] = d.url;
  out["ok"] = d.ok();
  out["checks"] = std::move(checks);
  return out;
}

// One node after the other (their output stays in order; each is bounded by its timeouts).
http::awaitable<void> diagnose_all(boost::asio::any_io_executor ex, std::vector<cluster::NodeUrl> nodes,
                                   uint16_t agent_port, std::chrono::milliseconds timeout,
                                   std::shared_ptr<http::ssl::context> tls, std::vector<cluster::Diagnosis>& out) {
  for (const auto& n : nodes) {
    cluster::Diagnosis d = co_await cluster::diagnose(ex, n, agent_port, timeout, tls);
    out.push_back(std::move(d));
  }
}

int run_diag(const DiagArgs& args) {
  std::vector<std::string> given = args.nodes;
  std::string node_ca = args.node_ca;
  if (given.empty() || node_ca.empty()) {
    try {
      ServeConfig config = resolve_config(gather_sources({}, {}, args.config));
      if (given.empty()) given = config.nodes;
      if (node_ca.empty()) node_ca = config.tls_node_ca;
    } catch (const ConfigError& e) {
      if (given.empty() || !args.config.empty()) return bad(e.what());  // nodes given: the configuration is optional
    }
  }
  std::shared_ptr<http::ssl::context> tls;
  if (!node_ca.empty()) {
    std::string error;
    tls = http::make_client_context(node_ca, error);
    if (!tls) return bad("tls.node_ca: " + error);
  }
  if (given.empty()) given.push_back("http://127.0.0.1:11434");  // the local Ollama
  std::vector<cluster::NodeUrl> nodes;
  for (const auto& text : given) {
    auto url = cluster::parse_node_url(text);
    if (!url) return bad("not a node URL: \"" + text + "\" (expected http://HOST:PORT or https://HOST:PORT)");
    nodes.push_back(*url);
  }

  boost::asio::io_context io;
  std::vector<cluster::Diagnosis> results;
  const cluster::HealthSettings defaults;
  boost::asio::co_spawn(io, diagnose_all(io.get_executor(), nodes, defaults.agent_port,
                                          std::chrono::milliseconds(args.timeout_ms), tls, results),
                        hydra::logged("the diagnosis"));
  io.run();

  std::size_t failed = 0;
  boost::json::array all;
  for (const auto& d : results) {
    failed += d.ok() ? 0 : 1;
    if (args.json) all.push_back(to_json(d));
    else print_text(d);
  }
  if (args.json) fmt::print("{}\n", boost::json::serialize(all));
  else fmt::print("{} of {} node{} ready for Hydra\n", results.size() - failed, results.size(), results.size() == 1 ? "" : "s");
  return failed ? 1 : 0;
}

}  // namespace

void add_diag_command(CLI::App& app, std::function<int()>& run) {
  auto args = std::make_shared<DiagArgs>();
  auto* cmd = app.add_subcommand("diag", "check connectivity to nodes and explain problems");
  cmd->add_option("node", args->nodes, "node URLs (default: the nodes `hydra serve` is configured with, else http://127.0.0.1:11434)");
  cmd->add_option("--config", args->config, "a TOML config file, as for `hydra serve`");
  cmd->add_option("--tls-node-ca", args->node_ca, "PEM CA file https:// nodes are verified with (default: tls.node_ca, else the system's CAs)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--timeout-ms", args->timeout_ms, "bound of each request")->check(CLI::Range(50, 60'000))->capture_default_str();
  cmd->add_flag("--json", args->json, "print the results as JSON");
  cmd->callback([&run, args] { run = [args] { return run_diag(*args); }; });
}

}  // namespace hydra::app
