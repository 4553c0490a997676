#include "cluster/scanner.hpp"

#include "common/spawn.hpp"
#include "common/whole_number.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <memory>

namespace hydra::cluster {

namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

const char* to_string(ServerKind kind) { return kind == ServerKind::ollama ? "ollama" : "llama-server"; }

std::string RpcEndpoint::id() const { return fmt::format("{}:{}", address.to_string(), port); }

std::optional<std::string> parse_version(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* version = v.as_object().if_contains("version");
  if (!version || !version->is_string()) return std::nullopt;
  return std::string(version->as_string());
}

bool names_hydra(std::string_view version_body) {
  boost::system::error_code ec;
  auto v = json::parse(version_body, ec);
  if (ec || !v.is_object()) return false;
  const auto* hydra = v.as_object().if_contains("hydra");
  return hydra && hydra->is_string();
}

PortList parse_port_list(std::string_view text) {
  PortList out;
  auto number = [](std::string_view t, uint16_t& port) {
    const auto v = whole_number<unsigned>(t);
    if (!v || *v < 1 || *v > 65535) return false;
    port = static_cast<uint16_t>(*v);
    return true;
  };
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const auto dash = item.find('-');
    uint16_t first = 0, last = 0;
    const bool fine = dash == std::string_view::npos
                          ? number(item, first) && number(item, last)
                          : number(item.substr(0, dash), first) && number(item.substr(dash + 1), last);
    if (!fine || first > last) {
      out.error = fmt::format("expected ports 1..65535 as PORT, FIRST-LAST or a comma-separated list, got \"{}\"", item);
      return out;
    }
    for (unsigned p = first; p <= last; ++p) {
      if (std::find(out.ports.begin(), out.ports.end(), p) != out.ports.end()) continue;
      if (out.ports.size() == kMaxScanPorts) {
        out.error = fmt::format("at most {} ports per scan", kMaxScanPorts);
        return out;
      }
      out.ports.push_back(static_cast<uint16_t>(p));
    }
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

std::optional<std::vector<std::string>> parse_digests(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* models = v.as_object().if_contains("models");
  if (!models || !models->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& m : models->as_array()) {
    const auto* d = m.is_object() ? m.as_object().if_contains("digest") : nullptr;
    if (d && d->is_string()) out.emplace_back(d->as_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// llama-server's GET /health: 200 {"status":"ok"} when ready, 503 {"error":{...}} while loading.
bool looks_like_llama_health(int status, std::string_view body) {
  if (status != 200 && status != 503) return false;
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return false;
  return v.as_object().contains(status == 200 ? "status" : "error");
}

namespace {

struct Task {
  uint32_t address;
  uint16_t port;
  bool rpc;
};

struct State {
  explicit State(asio::any_io_executor ex) : done(ex) {}
  std::vector<Task> tasks;
  std::size_t next = 0;
  std::size_t running = 0;
  asio::steady_timer done;
  ScanResult result;
};

// Decrements the worker count on every way out of a worker, waking the scan at zero.
struct WorkerExit {
  std::shared_ptr<State> state;
  ~WorkerExit() {
    if (--state->running == 0) state->done.cancel();
  }
};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// An open HTTP port: Ollama (/api/version), else llama-server (/health), else rejected.
http::awaitable<void> confirm(State& s, http::ConnectionPool& pool, const ScanOptions& o, tcp::endpoint ep) {
  const std::string host = fmt::format("{}:{}", ep.address().to_string(), ep.port());
  const std::string url = "http://" + host;
  const auto get = http::bhttp::verb::get;
  std::string no_body;
  auto t0 = Clock::now();
  auto version = co_await http::fetch(pool, ep, host, get, "/api/version", no_body, o.request_timeout);
  double latency = ms_since(t0);
  std::optional<std::string> parsed;
  if (!version.ec && version.status == 200) parsed = parse_version(version.body);
  if (parsed && names_hydra(version.body)) {
    s.result.gateways.push_back(host);
    pool.drop(ep);
    co_return;
  }
  if (parsed) {
    FoundNode node;
    node.url = url;
    node.address = ep.address().to_v4();
    node.port = ep.port();
    node.kind = ServerKind::ollama;
    node.version = *parsed;
    node.latency_ms = latency;
    auto tags = co_await http::fetch(pool, ep, host, get, "/api/tags", no_body, o.request_timeout);
    if (!tags.ec && tags.status == 200) {
      if (auto digests = parse_digests(tags.body)) node.digests = std::move(*digests);
    }
    s.result.nodes.push_back(std::move(node));
    co_return;
  }
  auto t1 = Clock::now();
  auto health = co_await http::fetch(pool, ep, host, get, "/health", no_body, o.request_timeout);
  if (!health.ec && names_hydra(health.body)) {  // a gateway's dashboard port, say
    s.result.gateways.push_back(host);
    pool.drop(ep);
    co_return;
  }
  if (!health.ec && looks_like_llama_health(health.status, health.body)) {
    FoundNode node;
    node.url = url;
    node.address = ep.address().to_v4();
    node.port = ep.port();
    node.kind = ServerKind::llama_server;
    node.latency_ms = ms_since(t1);
    s.result.nodes.push_back(std::move(node));
    co_return;
  }
  pool.drop(ep);
  std::string why = version.ec ? version.ec.message()
                               : fmt::format("GET /api/version answered {}, not Ollama's version", version.status);
  s.result.rejected.push_back(fmt::format("{}: {}", host, why));
}

http::awaitable<void> worker(std::shared_ptr<State> s, asio::any_io_executor ex, http::ConnectionPool& pool,
                             const ScanOptions& o) {
  WorkerExit guard{s};
  while (s->next < s->tasks.size()) {
    const Task t = s->tasks[s->next++];
    tcp::endpoint ep(Ipv4(t.address), t.port);
    auto conn = std::make_unique<http::Connection>(ex);
    conn->stream.expires_after(o.connect_timeout);
    auto [ec] = co_await conn->stream.lowest().async_connect(ep, http::use_nothrow);
    if (ec) continue;
    ++s->result.open_ports;
    if (t.rpc) {
      s->result.rpc.push_back(RpcEndpoint{Ipv4(t.address), t.port});
      conn->stream.close();
      continue;
    }
    // The open connection carries the first confirming request.
    pool.release(ep, std::move(conn));
    co_await confirm(*s, pool, o, ep);
  }
}

bool by_endpoint(const FoundNode& a, const FoundNode& b) {
  return std::pair(a.address.to_uint(), a.port) < std::pair(b.address.to_uint(), b.port);
}

// Folds duplicate Ollama answers into one entry each (see group_duplicates).
std::vector<FoundNode> merge_duplicates(std::vector<FoundNode> nodes, const std::vector<Ipv4>& local) {
  std::vector<Candidate> candidates;
  std::vector<std::size_t> index;  // candidate -> node
  std::vector<FoundNode> out;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].kind != ServerKind::ollama) continue;
    candidates.push_back(Candidate{nodes[i].address, nodes[i].port, nodes[i].version, nodes[i].digests});
    index.push_back(i);
  }
  std::vector<bool> keep(nodes.size(), true);
  for (const auto& group : group_duplicates(candidates, local)) {
    auto& first = nodes[index[group[0]]];
    for (std::size_t k = 1; k < group.size(); ++k) {
      first.also_at.push_back(nodes[index[group[k]]].url);
      keep[index[group[k]]] = false;
    }
  }
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (keep[i]) out.push_back(std::move(nodes[i]));
  return out;
}

}  // namespace

std::vector<std::vector<std::size_t>> group_duplicates(const std::vector<Candidate>& candidates,
                                                       const std::vector<Ipv4>& local_addresses) {
  auto sorted = [](std::vector<std::string> d) {
    std::sort(d.begin(), d.end());
    return d;
  };
  auto is_local = [&](const Ipv4& a) {
    return std::find(local_addresses.begin(), local_addresses.end(), a) != local_addresses.end();
  };
  std::vector<std::vector<std::size_t>> groups;
  std::vector<std::size_t> group_of(candidates.size(), SIZE_MAX);
  // Non-loopback answers each start a group; a loopback answer joins the first local one that
  // matches, or starts its own.
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].address.is_loopback()) continue;
    group_of[i] = groups.size();
    groups.push_back({i});
  }
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = candidates[i];
    if (!c.address.is_loopback()) continue;
    auto digests = sorted(c.digests);
    for (std::size_t j = 0; j < candidates.size() && group_of[i] == SIZE_MAX; ++j) {
      const auto& d = candidates[j];
      if (d.address.is_loopback() || !is_local(d.address) || d.port != c.port || d.version != c.version) continue;
      if (sorted(d.digests) != digests) continue;
      group_of[i] = group_of[j];
      groups[group_of[j]].push_back(i);
    }
    if (group_of[i] == SIZE_MAX) {
      group_of[i] = groups.size();
      groups.push_back({i});
    }
  }
  // In order of first appearance.
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
    return *std::min_element(a.begin(), a.end()) < *std::min_element(b.begin(), b.end());
  });
  return groups;
}

http::awaitable<ScanResult> scan(asio::any_io_executor executor, http::ConnectionPool* pool, ScanOptions options) {
  const auto t0 = Clock::now();
  auto state = std::make_shared<State>(executor);
  auto listing = enumerate(options.targets);
  if (!listing.error.empty()) {
    state->result.error = listing.error;
    co_return std::move(state->result);
  }
  for (const auto& address : listing.addresses) {
    if (!allowed(address, options.allowed)) {
      ++state->result.addresses_skipped;
      continue;
    }
    ++state->result.addresses_probed;
    for (auto port : options.ports) state->tasks.push_back(Task{address.to_uint(), port, false});
    for (auto port : options.rpc_ports) state->tasks.push_back(Task{address.to_uint(), port, true});
  }
  std::unique_ptr<http::ConnectionPool> own_pool;
  if (!pool) {
    own_pool = std::make_unique<http::ConnectionPool>(executor);
    pool = own_pool.get();
  }
  const std::size_t workers = std::min(std::max<std::size_t>(options.concurrency, 1), state->tasks.size());
  state->running = workers;
  for (std::size_t i = 0; i < workers; ++i)
    asio::co_spawn(executor, worker(state, executor, *pool, options), logged("a scan worker"));
  while (state->running > 0) {
    state->done.expires_at(Clock::time_point::max());
    auto [ec] = co_await state->done.async_wait(http::use_nothrow);
    (void)ec;
  }
  auto& r = state->result;
  std::sort(r.nodes.begin(), r.nodes.end(), by_endpoint);
  std::sort(r.rpc.begin(), r.rpc.end(), [](const RpcEndpoint& a, const RpcEndpoint& b) {
    return std::pair(a.address.to_uint(), a.port) < std::pair(b.address.to_uint(), b.port);
  });
  std::sort(r.rejected.begin(), r.rejected.end());
  std::sort(r.gateways.begin(), r.gateways.end());
  r.nodes = merge_duplicates(std::move(r.nodes), options.local_addresses);
  r.elapsed_ms = ms_since(t0);
  co_return std::move(state->result);
}

}  // namespace hydra::cluster
