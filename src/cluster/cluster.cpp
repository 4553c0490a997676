#include "cluster/cluster.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <stdexcept>

namespace hydra::cluster {

namespace asio = boost::asio;
using http::bhttp::verb;

Cluster::Cluster(asio::any_io_executor executor, http::ConnectionPool& pool, HealthSettings settings,
                 const Clock& clock)
    : executor_(std::move(executor)), pool_(pool), settings_(settings), clock_(clock) {
  publish();
}

std::size_t Cluster::add_node(const NodeUrl& url, int slots) {
  for (const auto& n : nodes_)
    if (n.id == url.id()) return n.index;
  asio::ip::tcp::resolver resolver(executor_);
  boost::system::error_code ec;
  auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec || results.empty())
    throw std::runtime_error("node " + url.url() + ": cannot resolve host: " + ec.message());
  std::size_t index = add_resolved(url, results.begin()->endpoint().address().to_string(), slots, NodeSource::configured);
  boost::system::error_code literal;
  asio::ip::make_address(url.host, literal);
  if (literal) {  // a host name: DNS may move it, so look it up again now and then
    nodes_[index].hostname = url.host;
    runtime_[index]->resolve_due = clock_.now() + settings_.dns_interval;
    publish();
  }
  return index;
}

void Cluster::set_rpc_servers(std::vector<std::string> endpoints) {
  if (endpoints == rpc_servers_) return;
  rpc_servers_ = std::move(endpoints);
  publish();
}

http::awaitable<void> Cluster::re_resolve(std::size_t index) {
  runtime_[index]->resolve_due = clock_.now() + settings_.dns_interval;
  asio::ip::tcp::resolver resolver(executor_);
  const std::string host = nodes_[index].hostname;
  auto [ec, results] = co_await resolver.async_resolve(host, std::to_string(nodes_[index].port), http::use_nothrow);
  if (ec || results.empty()) {
    spdlog::warn("node {}: cannot resolve {} again ({}); keeping {}", nodes_[index].id, host, ec.message(),
                 nodes_[index].ip);
    co_return;
  }
  std::string ip = results.begin()->endpoint().address().to_string();
  if (ip == nodes_[index].ip) co_return;
  spdlog::info("node {}: {} now resolves to {} (was {})", nodes_[index].id, host, ip, nodes_[index].ip);
  pool_.drop(endpoint(index));
  nodes_[index].ip = ip;
  publish();
}

void Cluster::start_loop(std::size_t index) {
  if (!started_ || runtime_[index]->loop_running) return;
  runtime_[index]->loop_running = true;
  asio::co_spawn(executor_, probe_loop(index), asio::detached);
}

std::size_t Cluster::register_node(const Registration& r, Nanos grace, NodeSource source) {
  std::size_t index = nodes_.size();
  for (const auto& n : nodes_)
    if (n.id == r.url.id()) index = n.index;
  if (index == nodes_.size()) {
    index = add_resolved(r.url, r.url.host, r.url.slots > 0 ? r.url.slots : 4, source);
    spdlog::info("node {} {}{}", nodes_[index].id, to_string(source), r.name.empty() ? "" : " as " + r.name);
  } else if (nodes_[index].removed) {
    nodes_[index].removed = false;
    nodes_[index].health = Health::unknown;
    nodes_[index].source = source;
    runtime_[index]->refresh_wanted = true;
    spdlog::info("node {} {} again", nodes_[index].id, to_string(source));
  }
  if (!r.name.empty()) nodes_[index].name = r.name;
  Runtime& rt = *runtime_[index];
  if (nodes_[index].source != NodeSource::configured) rt.registered_until = clock_.now() + grace;
  if (r.resources) rt.pushed = r.resources;
  publish();
  start_loop(index);
  rt.wake.cancel();  // probe it now
  return index;
}

bool Cluster::heartbeat(const std::string& id, std::optional<Resources> resources, Nanos grace) {
  for (auto& n : nodes_) {
    if (n.id != id || n.removed) continue;
    Runtime& rt = *runtime_[n.index];
    if (n.source != NodeSource::configured) rt.registered_until = clock_.now() + grace;
    if (resources) {
      rt.pushed = resources;
      n.resources = derive_resources(n, rt.pushed, rt.vram_gb, rt.ram_gb);
      publish();
    }
    return true;
  }
  return false;
}

bool Cluster::remove_node(const std::string& id) {
  for (auto& n : nodes_) {
    if (n.id != id || n.removed) continue;
    n.removed = true;
    pool_.drop(endpoint(n.index));
    publish();
    runtime_[n.index]->wake.cancel();  // its probe loop sees `removed` and ends
    signal_down(n.index);
    spdlog::info("node {} removed", id);
    return true;
  }
  return false;
}

std::size_t Cluster::add_resolved(const NodeUrl& url, const std::string& ip, int slots, NodeSource source) {
  NodeView node;
  node.index = nodes_.size();
  node.id = url.id();
  node.url = url.url();
  node.host_header = url.id();
  node.ip = ip;
  node.source = source;
  node.port = url.port;
  node.slots = url.slots > 0 ? url.slots : slots;
  boost::system::error_code lec;
  auto address = asio::ip::make_address(node.ip, lec);
  node.local = !lec && address.is_loopback();
  auto rt = std::make_unique<Runtime>(executor_);
  rt->vram_gb = url.vram_gb;
  rt->ram_gb = url.ram_gb;
  rt->agent_port = url.agent_port ? url.agent_port : settings_.agent_port;
  node.resources = derive_resources(node, std::nullopt, rt->vram_gb, rt->ram_gb);
  nodes_.push_back(std::move(node));
  runtime_.push_back(std::move(rt));
  publish();
  start_loop(nodes_.size() - 1);
  return nodes_.size() - 1;
}

void Cluster::start() {
  if (started_) return;
  started_ = true;
  for (std::size_t i = 0; i < nodes_.size(); ++i) start_loop(i);
}

void Cluster::publish() {
  auto snap = std::make_shared<Snapshot>();
  snap->generation = ++generation_;
  snap->nodes = nodes_;
  snap->rpc_servers = rpc_servers_;
  snap->build_index();
  snapshot_.store(std::move(snap));
}

http::tcp::endpoint Cluster::endpoint(std::size_t index) const {
  return {asio::ip::make_address(nodes_[index].ip), nodes_[index].port};
}

http::awaitable<void> Cluster::refresh_models(std::size_t index, const http::tcp::endpoint& ep) {
  // Cleared before fetching: a refresh asked for meanwhile must run again, not be lost.
  runtime_[index]->refresh_wanted = false;
  const std::string host = nodes_[index].host_header;
  auto tags = co_await http::fetch(pool_, ep, host, verb::get, "/api/tags", "", settings_.probe_timeout);
  auto ps = co_await http::fetch(pool_, ep, host, verb::get, "/api/ps", "", settings_.probe_timeout);
  NodeView& node = nodes_[index];
  if (!tags.ec && tags.status == 200)
    if (auto models = parse_tags(tags.body)) node.models = std::move(*models);
  if (!ps.ec && ps.status == 200)
    if (auto resident = parse_ps(ps.body)) node.resident = std::move(*resident);
  std::erase_if(node.loading, [&](const std::string& m) { return node.resident_model(m) != nullptr; });
  auto agent = co_await read_agent(index);
  NodeView& fresh = nodes_[index];  // (re-taken: nodes_ may have grown meanwhile)
  fresh.resources = derive_resources(fresh, agent, runtime_[index]->vram_gb, runtime_[index]->ram_gb);
  runtime_[index]->models_due = clock_.now() + settings_.models_interval;
}

http::awaitable<void> Cluster::probe(std::size_t index) {
  auto ep = endpoint(index);
  auto r = co_await http::fetch(pool_, ep, nodes_[index].host_header, verb::get, "/api/version", "",
                                settings_.probe_timeout);
  NodeView& node = nodes_[index];
  if (r.ec || r.status != 200) {
    std::string reason = r.ec ? r.ec.message() : "status " + std::to_string(r.status) + " " + r.body.substr(0, 120);
    if (node.health != Health::ejected || node.consecutive_failures == 0)
      spdlog::warn("node {} probe failed: {}", node.id, reason);
    failed(index, std::move(reason));
    pool_.drop(ep);
    publish();
    co_return;
  }
  bool was_down = !node.routable();
  const Health health_before = node.health;
  const std::string version_before = node.version;
  boost::system::error_code ec;
  auto doc = boost::json::parse(r.body, ec);
  if (!ec && doc.is_object())
    if (auto* v = doc.as_object().if_contains("version"); v && v->is_string())
      node.version = std::string(v->get_string());
  on_probe_success(node, clock_.now());
  if (was_down && node.routable()) {
    spdlog::info("node {} is up (Ollama {})", node.id, node.version);
    runtime_[index]->refresh_wanted = true;
  }
  bool changed = node.health != health_before || node.version != version_before;
  if (runtime_[index]->refresh_wanted || clock_.now() >= runtime_[index]->models_due) {
    co_await refresh_models(index, ep);
    changed = true;
  }
  // A routine probe of a healthy node changes nothing: skip the snapshot copy.
  if (changed) publish();
}

http::awaitable<void> Cluster::probe_loop(std::size_t index) {
  for (;;) {
    if (nodes_[index].removed) break;
    if (clock_.now() > runtime_[index]->registered_until) {
      // A registered node whose agent stopped sending heartbeats is forgotten.
      spdlog::info("node {} forgotten: {}", nodes_[index].id,
                   nodes_[index].source == NodeSource::discovered ? "not found by the last scans" : "no heartbeat from its agent");
      nodes_[index].removed = true;
      publish();
      break;
    }
    if (!nodes_[index].hostname.empty() && clock_.now() >= runtime_[index]->resolve_due) co_await re_resolve(index);
    co_await probe(index);
    Runtime& rt = *runtime_[index];
    auto wait = probe_interval(nodes_[index], clock_.now(), settings_);
    if (nodes_[index].routable() && rt.models_due > clock_.now())
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(rt.models_due - clock_.now()));
    if (rt.refresh_wanted && nodes_[index].routable()) wait = std::chrono::milliseconds(0);
    if (rt.registered_until != SteadyTime::max())
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(rt.registered_until - clock_.now()) +
                                std::chrono::milliseconds(1));
    rt.wake.expires_after(std::max(wait, std::chrono::milliseconds(0)));
    co_await rt.wake.async_wait(http::use_nothrow);
  }
  runtime_[index]->loop_running = false;
}

http::awaitable<std::optional<Resources>> Cluster::read_agent(std::size_t index) {
  Runtime& rt = *runtime_[index];
  if (rt.pushed) co_return rt.pushed;  // the agent sends its figures with each heartbeat
  if (!settings_.agents || clock_.now() < rt.agent_retry) co_return std::nullopt;
  http::tcp::endpoint ep(asio::ip::make_address(nodes_[index].ip), rt.agent_port);
  auto r = co_await http::fetch(pool_, ep, nodes_[index].host_header, verb::get, "/hydra/agent", "",
                                std::min(settings_.probe_timeout, std::chrono::milliseconds(500)));
  std::optional<Resources> out;
  if (!r.ec && r.status == 200) out = parse_agent(r.body);
  if (!out) runtime_[index]->agent_retry = clock_.now() + std::chrono::seconds(30);
  co_return out;
}

http::awaitable<void> Cluster::refresh_all_models() {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].routable()) co_await refresh_models(i, endpoint(i));
  publish();
}

http::awaitable<void> Cluster::probe_all_once() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) co_await probe(i);
}

void Cluster::report_failure(std::size_t index, std::string reason) {
  if (index >= nodes_.size()) return;
  nodes_[index].live->failures.fetch_add(1, std::memory_order_relaxed);
  failed(index, std::move(reason));
  publish();
  runtime_[index]->wake.cancel();  // probe it soon: it may be back already
}

void Cluster::failed(std::size_t index, std::string reason) {
  NodeView& node = nodes_[index];
  const bool was_ejected = node.health == Health::ejected;
  on_failure(node, clock_.now(), settings_, std::move(reason));
  if (!was_ejected && node.health == Health::ejected) signal_down(index);
}

void Cluster::signal_down(std::size_t index) {
  auto& rt = *runtime_[index];
  // Later waiters wait on a fresh timer; the old one wakes everyone waiting now.
  auto old = std::exchange(rt.down, std::make_shared<asio::steady_timer>(executor_, SteadyTime::max()));
  old->cancel();
}

http::awaitable<void> Cluster::wait_down(std::size_t index) {
  if (index >= runtime_.size()) co_return;
  std::shared_ptr<asio::steady_timer> down = runtime_[index]->down;  // kept alive across a signal
  co_await down->async_wait(http::use_nothrow);
}

void Cluster::report_success(std::size_t index) {
  if (index >= nodes_.size()) return;
  NodeView& node = nodes_[index];
  if (node.health == Health::healthy && node.consecutive_failures == 0) return;  // nothing to publish
  on_request_success(node);
  publish();
}

void Cluster::loading_started(std::size_t index, const std::string& model) {
  if (index >= nodes_.size()) return;
  auto& loading = nodes_[index].loading;
  if (std::find(loading.begin(), loading.end(), model) != loading.end()) return;
  loading.push_back(model);
  publish();
}

void Cluster::loading_ended(std::size_t index, const std::string& model) {
  if (index >= nodes_.size()) return;
  auto& loading = nodes_[index].loading;
  auto it = std::find(loading.begin(), loading.end(), model);
  if (it == loading.end()) return;
  loading.erase(it);
  publish();
}

void Cluster::request_refresh(std::size_t index) {
  if (index >= nodes_.size()) return;
  runtime_[index]->refresh_wanted = true;
  runtime_[index]->wake.cancel();
}

}  // namespace hydra::cluster
