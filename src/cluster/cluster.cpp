#include "cluster/cluster.hpp"

#include "cluster/scanner.hpp"
#include "common/spawn.hpp"
#include "http/tls.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <stdexcept>

namespace hydra::cluster {

namespace asio = boost::asio;
using http::bhttp::verb;

namespace {
// What the data path reports may come from a worker thread: run it again on the control
// thread, which owns the cluster (http/threads.hpp). False when already there.
template <class F>
bool handed_to_control(const asio::any_io_executor& control, F&& again) {
  if (http::on_control_thread()) return false;
  asio::post(control, std::forward<F>(again));
  return true;
}
}  // namespace

Cluster::Cluster(asio::any_io_executor executor, http::ConnectionPool& pool, HealthSettings settings,
                 const Clock& clock)
    : executor_(std::move(executor)),
      pool_(pool),
      settings_(settings),
      clock_(clock) {
  publish_now();
}

std::optional<std::size_t> Cluster::find(const std::string& id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::size_t Cluster::add_node(const NodeUrl& url, int slots) {
  if (auto known = find(url.id())) return *known;
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
    publish(index);
  }
  publish_now();  // the caller reads the snapshot next (start-up, tests)
  return index;
}

std::size_t Cluster::add_coordinator(const NodeUrl& url, const std::string& model) {
  NodeUrl u = url;
  u.kind = NodeKind::llama_server;
  const std::size_t index = add_resolved(u, u.host, 1, NodeSource::configured);
  nodes_[index].coordinator = model;
  publish_now();
  return index;
}

void Cluster::set_rpc_servers(std::vector<RpcServerView> endpoints) {
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
  publish(index);
}

void Cluster::start_loop(std::size_t index) {
  std::shared_ptr<Runtime> rt = runtime_[index];
  if (!started_ || !rt || rt->loop_running) return;
  rt->loop_running = true;
  asio::co_spawn(executor_, probe_loop(index, rt), [this, index, rt](std::exception_ptr e) mutable {
    if (e) {
      rt->loop_running = false;  // (a loop that ends normally says so itself)
      // A reply no parser expected, or a bug: say so, and probe the node again after a pause
      // rather than never again.
      log_exception(e, "probe loop of node " + nodes_[index].id);
      if (runtime_[index] == rt && !nodes_[index].removed)
        asio::co_spawn(executor_, restart_loop(index, rt), logged("restarting a probe loop"));
    }
    rt.reset();
    // The loop's frame is gone after this handler: its node's slot may be free now.
    asio::post(executor_, [this] { reclaim(); });
  });
}

http::awaitable<void> Cluster::restart_loop(std::size_t index, std::shared_ptr<Runtime> rt) {
  rt->wake.expires_after(settings_.interval);
  co_await rt->wake.async_wait(http::use_nothrow);
  const bool same = runtime_[index] == rt;
  rt.reset();
  if (same) start_loop(index);
}

std::size_t Cluster::add_resolved(const NodeUrl& url, const std::string& ip, int slots, NodeSource source) {
  std::size_t index = nodes_.size();
  if (!free_.empty()) {  // the lowest free slot
    auto lowest = std::min_element(free_.begin(), free_.end());
    index = *lowest;
    free_.erase(lowest);
  }
  NodeView node;
  node.index = index;
  node.id = url.id();
  node.url = url.url();
  node.tls = url.tls;
  node.tls_name = url.host;
  node.host_header = url.id();
  node.ip = ip;
  node.source = source;
  node.port = url.port;
  node.slots = url.slots > 0 ? url.slots : slots;
  node.slots_configured = url.slots > 0;
  if (url.kind) node.kind = *url.kind;
  boost::system::error_code lec;
  auto address = asio::ip::make_address(node.ip, lec);
  node.local = !lec && address.is_loopback();
  auto rt = std::make_shared<Runtime>(executor_);
  rt->vram_gb = url.vram_gb;
  rt->ram_gb = url.ram_gb;
  rt->agent_port = url.agent_port ? url.agent_port : settings_.agent_port;
  rt->kind_fixed = url.kind.has_value();
  node.resources = derive_resources(node, std::nullopt, rt->vram_gb, rt->ram_gb);
  by_id_[node.id] = index;
  if (index == nodes_.size()) {
    nodes_.push_back(std::move(node));
    runtime_.push_back(std::move(rt));
    dirty_.push_back(true);
  } else {
    nodes_[index] = std::move(node);
    runtime_[index] = std::move(rt);
  }
  publish(index);
  start_loop(index);
  return index;
}

void Cluster::start() {
  if (started_) return;
  started_ = true;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (runtime_[i] && !nodes_[i].removed) start_loop(i);
}

void Cluster::publish(std::size_t index) {
  dirty_[index] = true;
  note_success_clears(index);
  publish();
}

void Cluster::note_success_clears(std::size_t index) {
  const NodeView& n = nodes_[index];
  n.live->success_clears.store(n.health != Health::healthy || n.consecutive_failures > 0, std::memory_order_release);
}

void Cluster::publish() {
  publish_pending_ = true;
  if (publish_posted_) return;
  publish_posted_ = true;
  // Once, after whatever else this turn of the event loop changes.
  asio::post(executor_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    publish_posted_ = false;
    publish_now();
  });
}

void Cluster::publish_now(std::size_t index) {
  dirty_[index] = true;
  publish_pending_ = true;
  publish_now();
}

void Cluster::publish_now() {
  auto previous = snapshot_.load();
  if (previous && !publish_pending_) return;
  for (std::size_t i = 0; i < dirty_.size(); ++i)  // every node changed since the last publish
    if (dirty_[i]) note_success_clears(i);
  snapshot_.store(next_snapshot(previous.get(), nodes_, dirty_, rpc_servers_, ++generation_));
  std::fill(dirty_.begin(), dirty_.end(), false);
  publish_pending_ = false;
}

http::Peer peer_of(const NodeView& node) {
  // Every proxied request asks: the last few addresses parsed on this thread are kept (text
  // to address), as parsing one costs more than the rest of this.
  struct Parsed {
    std::string text;
    asio::ip::address address;
  };
  thread_local std::array<Parsed, 8> parsed;
  thread_local std::size_t next = 0;
  const Parsed* found = nullptr;
  for (const auto& p : parsed)
    if (p.text == node.ip && !p.text.empty()) found = &p;
  if (!found) {
    boost::system::error_code ec;
    Parsed& slot = parsed[next++ % parsed.size()];
    slot.address = asio::ip::make_address(node.ip, ec);
    slot.text = ec ? std::string() : node.ip;
    found = &slot;
  }
  return http::Peer(http::tcp::endpoint(found->address, node.port), node.tls, node.tls_name);
}

http::Peer agent_peer_of(const NodeView& node, uint16_t agent_port) {
  http::Peer p = peer_of(node);
  p.endpoint.port(agent_port);
  return p;
}

http::tcp::endpoint Cluster::endpoint(std::size_t index) const {
  return {asio::ip::make_address(nodes_[index].ip), nodes_[index].port};
}

http::awaitable<void> Cluster::refresh_models(std::size_t index, http::Peer peer) {
  // Cleared before fetching: a refresh asked for meanwhile must run again, not be lost.
  runtime_[index]->refresh_wanted = false;
  const std::string host = nodes_[index].host_header;
  auto tags = co_await http::fetch(pool_, peer, host, verb::get, "/api/tags", "", settings_.probe_timeout);
  auto ps = co_await http::fetch(pool_, peer, host, verb::get, "/api/ps", "", settings_.probe_timeout);
  NodeView& node = nodes_[index];
  // Lists read again are compared with what the node had: only a difference is published.
  bool changed = false;
  if (!tags.ec && tags.status == 200)
    if (auto models = parse_tags(tags.body); models && *models != node.models) {
      node.models = std::move(*models);
      changed = true;
    }
  if (!ps.ec && ps.status == 200)
    if (auto resident = parse_ps(ps.body); resident && *resident != node.resident) {
      node.resident = std::move(*resident);
      changed = true;
    }
  if (std::erase_if(node.loading, [&](const std::string& m) { return node.resident_model(m) != nullptr; }) > 0)
    changed = true;
  auto agent = co_await read_agent(index);
  NodeView& fresh = nodes_[index];  // (re-taken: nodes_ may have grown meanwhile)
  Resources resources = derive_resources(fresh, agent, runtime_[index]->vram_gb, runtime_[index]->ram_gb);
  if (resources != fresh.resources) {
    fresh.resources = resources;
    changed = true;
  }
  runtime_[index]->models_due = clock_.now() + settings_.models_interval;
  if (changed) publish(index);
}

http::awaitable<void> Cluster::probe(std::size_t index) {
  const http::Peer peer = peer_of(nodes_[index]);
  if (nodes_[index].kind == NodeKind::llama_server) {
    co_await probe_llama(index, peer);
    co_return;
  }
  auto r = co_await http::fetch(pool_, peer, nodes_[index].host_header, verb::get, "/api/version", "",
                                settings_.probe_timeout);
  // No Ollama API there: a llama-server (it answers 404; while it loads, 503 "Loading model"
  // with llama.cpp's unavailable_error to every path).
  const bool loading_llama = r.status == 503 && r.body.find("unavailable_error") != std::string::npos;
  if (!r.ec && (r.status == 404 || loading_llama) && !runtime_[index]->kind_fixed) {
    const bool llama = co_await probe_kind(index, peer);
    if (llama) co_return;
  }
  NodeView& node = nodes_[index];
  if (r.ec || r.status != 200) {
    probe_failed(index, peer, r.ec ? http::error_text(r.ec, node.tls_name)
                                   : "status " + std::to_string(r.status) + " " + r.body.substr(0, 120));
    co_return;
  }
  // A gateway (this one, or another) is never a node: requests sent there would come back
  // through it, or go round two gateways, until they time out.
  if (names_hydra(r.body)) {
    probe_failed(index, peer, kGatewayIsNotANode);
    co_return;
  }
  bool was_down = !node.routable();
  const Health health_before = node.health;
  const std::string version_before = node.version;
  const std::string name_before = node.name;
  boost::system::error_code ec;
  auto doc = boost::json::parse(r.body, ec);
  if (!ec && doc.is_object()) {
    if (auto* v = doc.as_object().if_contains("version"); v && v->is_string() && v->get_string().size() <= 64)
      node.version = std::string(v->get_string());
    // A `hydra sim` names itself here; an agent's registered name comes first.
    if (auto* v = doc.as_object().if_contains("name");
        v && v->is_string() && v->get_string().size() <= 64 && node.source != NodeSource::registered &&
        !runtime_[index]->name_given)
      node.name = std::string(v->get_string());
  }
  on_probe_success(node, clock_.now());
  if (was_down && node.routable()) {
    spdlog::info("node {} is up (Ollama {})", node.id, node.version);
    runtime_[index]->refresh_wanted = true;
  }
  // A routine probe of a healthy node changes nothing: nothing to publish.
  if (node.health != health_before || node.version != version_before || node.name != name_before) publish(index);
  if (runtime_[index]->refresh_wanted || clock_.now() >= runtime_[index]->models_due)
    co_await refresh_models(index, peer);  // publishes what changed
}

http::awaitable<void> Cluster::probe_loop(std::size_t index, std::shared_ptr<Runtime> self) {
  for (;;) {
    if (nodes_[index].removed) break;
    if (clock_.now() > self->registered_until) {
      // A registered node whose agent stopped sending heartbeats is forgotten.
      spdlog::info("node {} forgotten: {}", nodes_[index].id,
                   nodes_[index].source == NodeSource::discovered ? "not found by the last scans" : "no heartbeat from its agent");
      forget(index);  // (published at the end of this turn)
      break;
    }
    if (!nodes_[index].hostname.empty() && clock_.now() >= self->resolve_due) co_await re_resolve(index);
    co_await probe(index);
    reclaim();  // now and then: slots of removed nodes whose last request has ended
    if (nodes_[index].removed) break;
    Runtime& rt = *self;
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
  self->loop_running = false;
}

http::awaitable<std::optional<Resources>> Cluster::read_agent(std::size_t index) {
  Runtime& rt = *runtime_[index];
  if (rt.pushed) co_return rt.pushed;  // the agent sends its figures with each heartbeat
  if (!settings_.agents || clock_.now() < rt.agent_retry) co_return std::nullopt;
  auto r = co_await http::fetch(pool_, agent_peer_of(nodes_[index], rt.agent_port), nodes_[index].host_header,
                                verb::get, "/hydra/agent", "",
                                std::min(settings_.probe_timeout, std::chrono::milliseconds(500)));
  std::optional<Resources> out;
  if (!r.ec && r.status == 200) out = parse_agent(r.body);
  if (!out) runtime_[index]->agent_retry = clock_.now() + std::chrono::seconds(30);
  co_return out;
}

http::awaitable<void> Cluster::refresh_node(std::size_t index, std::shared_ptr<Runtime> rt) {
  if (runtime_[index] == rt && nodes_[index].routable()) co_await refresh_models(index, peer_of(nodes_[index]));
}

http::awaitable<void> Cluster::refresh_all_models() {
  if (auto running = refreshing_) {  // one is under way: its result is this call's too
    co_await running->async_wait(http::use_nothrow);
    co_return;
  }
  const SteadyTime now = clock_.now();
  if (last_fleet_refresh_ && now - *last_fleet_refresh_ < settings_.refresh_min_interval) co_return;
  last_fleet_refresh_ = now;
  ++fleet_refreshes_;
  auto done = std::make_shared<asio::steady_timer>(executor_, SteadyTime::max());
  refreshing_ = done;
  // Every routable node at once; the last one to finish wakes this coroutine.
  auto all_read = std::make_shared<asio::steady_timer>(executor_, SteadyTime::max());
  auto pending = std::make_shared<std::size_t>(0);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!runtime_[i] || !nodes_[i].routable()) continue;
    ++*pending;
    asio::co_spawn(executor_, refresh_node(i, runtime_[i]), [all_read, pending](std::exception_ptr e) {
      if (e) log_exception(e, "refreshing a node's models");
      if (--*pending == 0) all_read->cancel();
    });
  }
  if (*pending > 0) co_await all_read->async_wait(http::use_nothrow);
  publish_now();  // what changed, before the caller routes again
  refreshing_.reset();
  done->cancel();
}

http::awaitable<void> Cluster::probe_all_once() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    std::shared_ptr<Runtime> rt = runtime_[i];  // held: the slot stays this node's meanwhile
    if (rt && !nodes_[i].removed) co_await probe(i);
  }
  publish_now();  // the caller reads the fleet next
}

bool Cluster::known(std::size_t index) const { return index < nodes_.size() && runtime_[index] != nullptr; }

void Cluster::report_failure(std::size_t index, std::string reason) {
  if (handed_to_control(executor_, [this, index, reason]() mutable { report_failure(index, std::move(reason)); }))
    return;
  if (!known(index)) return;
  nodes_[index].live->failures.fetch_add(1, std::memory_order_relaxed);
  failed(index, std::move(reason));
  publish(index);
  runtime_[index]->wake.cancel();  // probe it soon: it may be back already
}

void Cluster::probe_failed(std::size_t index, const http::Peer& peer, std::string reason) {
  NodeView& node = nodes_[index];
  if (node.health != Health::ejected || node.consecutive_failures == 0)
    spdlog::warn("node {} probe failed: {}", node.id, reason);
  failed(index, std::move(reason));
  pool_.drop(peer.endpoint);
  publish(index);
}

void Cluster::failed(std::size_t index, std::string reason) {
  NodeView& node = nodes_[index];
  const bool was_ejected = node.health == Health::ejected;
  on_failure(node, clock_.now(), settings_, std::move(reason));
  if (!was_ejected && node.health == Health::ejected && on_eject_) on_eject_(node, node.ejected_until - clock_.now());
}

bool Cluster::eject_elsewhere(const std::string& id, Nanos backoff, std::string reason) {
  auto index = find(id);
  if (!index || nodes_[*index].removed) return false;
  NodeView& node = nodes_[*index];
  const auto until = clock_.now() + backoff;
  if (node.health == Health::ejected && node.ejected_until >= until) return true;  // out as long already
  const bool was_ejected = node.health == Health::ejected;
  node.health = Health::ejected;
  node.ejected_until = until;
  node.last_error = std::move(reason);
  if (!was_ejected)
    spdlog::warn("node {} ejected for {:.1f} s: {}", id, std::chrono::duration<double>(backoff).count(), node.last_error);
  publish_now(*index);  // avoided from the next request on
  runtime_[*index]->wake.cancel();  // its probe loop waits for the new backoff
  return true;
}

void Cluster::report_success(const NodeView& node) {
  if (node.live->success_clears.load(std::memory_order_acquire)) report_success(node.index);
}

void Cluster::report_success(std::size_t index) {
  if (handed_to_control(executor_, [this, index] { report_success(index); })) return;
  if (!known(index)) return;
  NodeView& node = nodes_[index];
  if (node.health == Health::healthy && node.consecutive_failures == 0) return;  // nothing to publish
  on_request_success(node);
  publish(index);
}

void Cluster::loading_started(std::size_t index, const std::string& model) {
  if (handed_to_control(executor_, [this, index, model] { loading_started(index, model); })) return;
  if (!known(index) || nodes_[index].removed) return;
  auto& loading = nodes_[index].loading;
  if (std::find(loading.begin(), loading.end(), model) != loading.end()) return;
  loading.push_back(model);
  publish_now(index);  // requests routed next join this load: they must see it
}

void Cluster::loading_ended(std::size_t index, const std::string& model) {
  if (handed_to_control(executor_, [this, index, model] { loading_ended(index, model); })) return;
  if (!known(index)) return;
  auto& loading = nodes_[index].loading;
  auto it = std::find(loading.begin(), loading.end(), model);
  if (it == loading.end()) return;
  loading.erase(it);
  publish_now(index);
}

void Cluster::request_refresh(std::size_t index) {
  if (handed_to_control(executor_, [this, index] { request_refresh(index); })) return;
  if (!known(index)) return;
  runtime_[index]->refresh_wanted = true;
  runtime_[index]->wake.cancel();
}

}  // namespace hydra::cluster
