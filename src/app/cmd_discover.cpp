// `hydra discover [CIDR...]`: a one-off subnet scan report (see cluster/scanner.hpp).
#include "app/commands.hpp"
#include "cluster/scanner.hpp"
#include "common/whole_number.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>

namespace hydra::app {

namespace {

struct DiscoverArgs {
  std::vector<std::string> targets;
  std::vector<std::string> ports;
  std::vector<std::string> rpc_ports;
  std::string timeout_ms;
  std::string concurrency;
  bool json = false;
  std::vector<std::string> extras;
};

template <class T>
bool parse_number(const std::string& text, T lo, T hi, T& out) {
  const auto v = whole_number<T>(text);
  if (!v || *v < lo || *v > hi) return false;
  out = *v;
  return true;
}

// Every --port given (each a port, a range or a list), as one list without repeats.
cluster::PortList port_list(const std::vector<std::string>& texts) {
  std::string joined;
  for (const auto& t : texts) joined += (joined.empty() ? "" : ",") + t;
  return cluster::parse_port_list(joined);
}

int bad(const std::string& message) {
  fmt::print(stderr, "hydra discover: {}\n", message);
  return 2;
}

std::string render_json(const cluster::ScanOptions& o, const cluster::ScanResult& r) {
  boost::json::object out;
  boost::json::array nodes;
  for (const auto& n : r.nodes) {
    boost::json::object j;
    j["url"] = n.url;
    j["kind"] = cluster::to_string(n.kind);
    j["version"] = n.version;
    j["latency_ms"] = std::round(n.latency_ms * 100) / 100;
    boost::json::array also;
    for (const auto& a : n.also_at) also.emplace_back(a);
    j["also_at"] = std::move(also);
    nodes.emplace_back(std::move(j));
  }
  boost::json::array rpc;
  for (const auto& e : r.rpc) rpc.emplace_back(e.id());
  boost::json::array targets;
  for (const auto& t : o.targets) targets.emplace_back(t.to_string());
  boost::json::array ports;
  for (auto p : o.ports) ports.emplace_back(p);
  boost::json::array rejected;
  for (const auto& x : r.rejected) rejected.emplace_back(x);
  boost::json::array gateways;
  for (const auto& g : r.gateways) gateways.emplace_back(g);
  out["gateways"] = std::move(gateways);
  out["targets"] = std::move(targets);
  out["ports"] = std::move(ports);
  out["nodes"] = std::move(nodes);
  out["rpc"] = std::move(rpc);
  out["rejected"] = std::move(rejected);
  out["addresses_probed"] = r.addresses_probed;
  out["addresses_skipped"] = r.addresses_skipped;
  out["open_ports"] = r.open_ports;
  out["elapsed_ms"] = static_cast<int64_t>(std::round(r.elapsed_ms));
  return boost::json::serialize(out);
}

void print_table(const cluster::ScanOptions& o, const cluster::ScanResult& r) {
  std::string ports;
  for (auto p : o.ports) ports += (ports.empty() ? "" : ",") + std::to_string(p);
  if (r.nodes.empty()) {
    fmt::print("no Ollama nodes found\n");
  } else {
    std::size_t width = 3;
    for (const auto& n : r.nodes) width = std::max(width, n.url.size());
    fmt::print("{:<{}}  {:<12}  {:<12}  {:>10}\n", "URL", width, "KIND", "VERSION", "LATENCY");
    for (const auto& n : r.nodes) {
      fmt::print("{:<{}}  {:<12}  {:<12}  {:>7.1f} ms\n", n.url, width, cluster::to_string(n.kind),
                 n.version.empty() ? "-" : n.version, n.latency_ms);
      for (const auto& a : n.also_at) fmt::print("  (also reachable as {})\n", a);
    }
  }
  if (!o.rpc_ports.empty()) {
    if (r.rpc.empty()) fmt::print("no rpc-server endpoints found\n");
    else {
      fmt::print("rpc-server endpoints:\n");
      for (const auto& e : r.rpc) fmt::print("  {}\n", e.id());
    }
  }
  for (const auto& g : r.gateways) fmt::print("Hydra gateway (not a node): http://{}\n", g);
  for (const auto& x : r.rejected) fmt::print("not admitted: {}\n", x);
  fmt::print("scanned {} addresses on port(s) {}: {} open port(s), {:.0f} ms", r.addresses_probed, ports,
             r.open_ports, r.elapsed_ms);
  if (r.addresses_skipped > 0) fmt::print("; {} outside the allowed ranges not contacted", r.addresses_skipped);
  fmt::print("\n");
}

int run_discover(const DiscoverArgs& args) {
  if (!args.extras.empty()) return bad("unexpected argument \"" + args.extras.front() + "\"");
  cluster::ScanOptions o;
  for (const auto& t : args.targets) {
    auto parsed = cluster::parse_scan_target(t);
    if (!parsed.cidr) return bad(parsed.error);
    o.targets.push_back(*parsed.cidr);
  }
  if (!args.ports.empty()) {
    auto ports = port_list(args.ports);
    if (!ports.error.empty()) return bad("--port: " + ports.error);
    o.ports = std::move(ports.ports);
  }
  if (!args.rpc_ports.empty()) {
    auto ports = port_list(args.rpc_ports);
    if (!ports.error.empty()) return bad("--rpc-port: " + ports.error);
    o.rpc_ports = std::move(ports.ports);
  }
  if (!args.timeout_ms.empty()) {
    int64_t ms = 0;
    if (!parse_number<int64_t>(args.timeout_ms, 1, 60'000, ms))
      return bad("--timeout-ms: expected 1..60000, got \"" + args.timeout_ms + "\"");
    o.connect_timeout = std::chrono::milliseconds(ms);
  }
  if (!args.concurrency.empty()) {
    std::size_t n = 0;
    if (!parse_number<std::size_t>(args.concurrency, 1, 4096, n))
      return bad("--concurrency: expected 1..4096, got \"" + args.concurrency + "\"");
    o.concurrency = n;
  }
  auto interfaces = cluster::local_interfaces();
  for (const auto& i : interfaces) o.local_addresses.push_back(i.address);
  if (o.targets.empty()) {
    o.targets = cluster::default_targets(interfaces);
    if (o.targets.empty()) {
      fmt::print(stderr, "hydra discover: this machine has no non-loopback IPv4 interface; give a CIDR to scan\n");
      return 1;
    }
  }
  if (auto listing = cluster::enumerate(o.targets); !listing.error.empty()) return bad(listing.error);

  boost::asio::io_context ioc(1);
  std::optional<cluster::ScanResult> result;
  boost::asio::co_spawn(ioc, cluster::scan(ioc.get_executor(), nullptr, o),
                        [&](std::exception_ptr e, cluster::ScanResult r) {
                          if (e) std::rethrow_exception(e);
                          result = std::move(r);
                        });
  ioc.run();
  if (!result) return bad("the scan did not finish");
  if (!result->error.empty()) return bad(result->error);
  if (args.json) fmt::print("{}\n", render_json(o, *result));
  else print_table(o, *result);
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_discover_command(CLI::App& app, std::function<int()>& run) {
  auto args = std::make_shared<DiscoverArgs>();
  auto* cmd = app.add_subcommand(
      "discover", "scan IPv4 ranges once for Ollama nodes (default: the /24 of each network interface)");
  cmd->add_option("cidr", args->targets, "ranges to scan, e.g. 192.168.1.0/24 (prefix 16..32) or single addresses");
  cmd->add_option("--port", args->ports, "Ollama ports to probe: PORT, FIRST-LAST or a comma-separated list (repeatable; default 11434)")
      ->allow_extra_args(false);
  cmd->add_option("--rpc-port", args->rpc_ports, "llama.cpp rpc-server ports to look for, as --port (e.g. 50052)")
      ->allow_extra_args(false);
  cmd->add_option("--timeout-ms", args->timeout_ms, "connect timeout per address (default 300)");
  cmd->add_option("--concurrency", args->concurrency, "connects in flight at once (default 256)");
  cmd->add_flag("--json", args->json, "print the report as one line of JSON");
  cmd->allow_extras();
  cmd->callback([&run, args, cmd] {
    args->extras = cmd->remaining();
    run = [args] { return run_discover(*args); };
  });
}

}  // namespace hydra::app
