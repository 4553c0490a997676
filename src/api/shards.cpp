#include "api/shards.hpp"

#include "cluster/node_info.hpp"
#include "common/json.hpp"
#include "common/spawn.hpp"
#include "common/timefmt.hpp"
#include "routing/shard_plan.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

namespace hydra::api {

namespace json = boost::json;
namespace asio = boost::asio;
using http::awaitable;
using http::bhttp::verb;
using Clock = std::chrono::steady_clock;

namespace {

// The agent's address from its URL ("http://host:port"), resolved once (start-up).
http::Peer agent_peer(const std::string& url) {
  auto u = cluster::parse_node_url(url);
  if (!u) throw std::runtime_error("[[sharded]] coordinator: not a URL: " + url);
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(u->host, std::to_string(u->port), ec);
  if (ec || results.empty()) throw std::runtime_error("[[sharded]] coordinator: cannot resolve " + u->host);
  return http::Peer(results.begin()->endpoint(), u->tls, u->host);
}

std::string gb(uint64_t bytes) { return fmt::format("{:.1f} GB", static_cast<double>(bytes) / 1e9); }

}  // namespace

const char* Shards::phase_name(Phase p) {
  switch (p) {
    case Phase::stopped: return "stopped";
    case Phase::starting: return "starting";
    case Phase::ready: return "ready";
    case Phase::failed: return "failed";
  }
  return "stopped";
}

Shards::Shards(Gateway& gw, cluster::RpcWatch& rpc, std::vector<ShardedModel> models, std::string token)
    : gw_(gw), rpc_(rpc), token_(std::move(token)) {
  if (!models.empty() && token_.empty())
    spdlog::warn("sharded models are configured but discovery.token (HYDRA_REGISTRATION_TOKEN) is not set: the "
                 "agents that start their coordinators refuse a gateway without their --token");
  for (auto& m : models) {
    if (!m.gguf.starts_with("/"))
      spdlog::warn("sharded {}: gguf \"{}\" is not an absolute path; the agent reads it relative to its own "
                   "working directory", m.model, m.gguf);
    http::Peer peer = agent_peer(m.coordinator);  // resolved once: fails start-up rather than a request
    for (auto& r : m.rpc) r = rpc_.add_configured(r);  // probed like any other, as "ip:port"
    json::object tag;
    tag["name"] = m.model;
    tag["model"] = m.model;
    tag["size"] = static_cast<uint64_t>(m.size_gb * 1e9);
    tag["digest"] = "";
    tag["details"] = json_field("format", "gguf");
    tag["node_kind"] = "llama-server";
    tag["sharded"] = true;
    tags_.push_back(std::move(tag));
    State s(peer);
    s.agent_host = cluster::parse_node_url(m.coordinator)->id();
    s.cfg = std::move(m);
    states_.push_back(std::move(s));
  }
  publish();
}

bool Shards::manages(const std::string& model) const {
  // (Any thread: the list and each entry's settings never change after start-up.)
  return std::any_of(states_.begin(), states_.end(), [&](const State& s) { return s.cfg.model == model; });
}

Shards::State* Shards::find(const std::string& model) {
  for (auto& s : states_)
    if (s.cfg.model == model) return &s;
  return nullptr;
}

void Shards::note(State& s, std::string what) {
  const std::string stamp = rfc3339(std::chrono::system_clock::now());
  if (what == s.last_event) {  // the same again (a refusal per request): counted, not repeated
    ++s.repeats;
    if (!s.events.empty()) s.events.back() = fmt::format("{} {} (x{})", stamp, what, s.repeats + 1);
    publish();
    return;
  }
  spdlog::info("sharded {}: {}", s.cfg.model, what);
  s.last_event = what;
  s.repeats = 0;
  s.events.push_back(fmt::format("{} {}", stamp, what));
  while (s.events.size() > 20) s.events.pop_front();
  publish();
}

bool Shards::plain_holder(const std::string& model) const {
  auto snapshot = gw_.cluster.snapshot();
  for (const auto& h : snapshot->holders_of(model))
    if (snapshot->nodes[h.node].coordinator.empty()) return true;
  return false;
}

bool Shards::coordinator_up(const State& s) const {
  auto snapshot = gw_.cluster.snapshot();
  for (const auto& n : snapshot->nodes)
    if (n.id == s.node_id && !n.removed) return n.routable();
  return false;
}

awaitable<Shards::Ensured> Shards::ensure(std::string model, bool after_failure) {
  Ensured out;
  State* s = find(model);
  if (!s) co_return out;
  s->last_used = Clock::now();
  if (plain_holder(model)) co_return out;  // a plain node has it: routed there
  // Ready, but its coordinator stopped answering (an rpc-server died and it aborted, say): found
  // out now rather than at the watch's next round, and started again. After a failure there,
  // its agent is asked for half a second; else for up to 3 s while the node is not routable.
  const uint64_t starts_before = s->starts;
  asio::steady_timer pause(gw_.control);
  const int rounds = after_failure ? 5 : 30;  // (an agent notes an exit within 0.1 s)
  for (int i = 0; i < rounds && s->phase == Phase::ready && (after_failure || !coordinator_up(*s)); ++i) {
    co_await check(*s);
    if (s->phase != Phase::ready || s->starts != starts_before || (!after_failure && coordinator_up(*s))) break;
    pause.expires_after(std::chrono::milliseconds(100));
    co_await pause.async_wait(http::use_nothrow);
  }
  if (s->phase == Phase::starting && s->settled) {
    auto settled = s->settled;  // waits for the start under way
    co_await settled->async_wait(http::use_nothrow);
  } else if (s->phase != Phase::ready) {
    co_await bring_up(*s);
  }
  if (s->phase != Phase::ready) {
    out.error = s->reason;
  } else if (s->starts != starts_before) {
    std::string servers;
    for (const auto& e : s->servers) servers += (servers.empty() ? "" : ", ") + e;
    out.note = fmt::format("sharded: coordinator {} started over {} ({} of them)", s->node_id, servers, s->servers.size());
  }
  co_return out;
}

awaitable<void> Shards::bring_up(State& s) {
  s.phase = Phase::starting;
  s.reason.clear();
  publish();
  s.settled = std::make_shared<asio::steady_timer>(gw_.control, Clock::time_point::max());
  auto settled = s.settled;
  const uint64_t bytes = co_await model_bytes(s);
  std::string error;
  if (bytes == 0) error = s.reason;
  routing::ShardPlan plan;
  if (error.empty()) {
    co_await rpc_.probe_now();
    std::vector<routing::RpcServer> servers;
    for (const auto& r : rpc_.servers()) {
      if (r.state != cluster::RpcServerView::State::ready) continue;
      if (!s.cfg.rpc.empty() && std::find(s.cfg.rpc.begin(), s.cfg.rpc.end(), r.endpoint) == s.cfg.rpc.end()) continue;
      servers.push_back(routing::RpcServer{r.endpoint, r.free_bytes(), !r.in_use_by.empty()});
    }
    routing::ShardNeed need;
    need.model_bytes = bytes;
    need.kv_bytes = static_cast<uint64_t>(s.cfg.kv_gb_per_1k_ctx * 1e9 * s.cfg.ctx * s.cfg.parallel / 1024.0);
    need.coordinator_bytes = static_cast<uint64_t>(s.cfg.coordinator_gb * 1e9);
    plan = routing::plan_shards(std::move(servers), need);
    if (!plan.ok()) error = plan.error;
  }
  std::string url, agent_id;
  if (error.empty()) {
    plan.split = per_device(plan);
    std::string split;
    for (double x : plan.split) split += fmt::format("{}{:.2f}", split.empty() ? "" : ",", x);
    note(s, fmt::format("starting a coordinator over {} rpc-server(s) ({}; {} free for {} of weights), tensor split {}",
                        plan.servers.size(), fmt::join(plan.servers, ", "), gb(plan.planned_bytes), gb(bytes), split));
    json::object body;
    body["model"] = s.cfg.model;
    body["gguf"] = s.cfg.gguf;
    json::array rpc, shares;
    for (const auto& e : plan.servers) rpc.emplace_back(e);
    for (double x : plan.split) shares.emplace_back(x);
    body["rpc"] = std::move(rpc);
    body["tensor_split"] = std::move(shares);
    body["ctx"] = s.cfg.ctx;
    body["parallel"] = s.cfg.parallel;
    const std::string target = "/hydra/agent/llama-server", text = json::serialize(body);
    auto r = co_await agent(s, verb::post, target, text, std::chrono::seconds(10));
    boost::system::error_code ec;
    json::value doc = r.ec || r.status != 201 ? json::value() : json::parse(r.body, ec);
    const json::object* o = !ec ? doc.if_object() : nullptr;
    const json::value* url_value = o ? o->if_contains("url") : nullptr;
    const json::value* id_value = o ? o->if_contains("id") : nullptr;
    if (!url_value || !url_value->is_string() || !id_value || !id_value->is_string()) {
      error = fmt::format("the agent at {} did not start llama-server: {}", s.cfg.coordinator,
                          r.ec ? r.ec.message() : agent_error_text(r.status, r.body));
    } else {
      url = std::string(url_value->get_string());
      agent_id = std::string(id_value->get_string());
      s.agent_id = agent_id;
      s.servers = plan.servers;
      s.split = plan.split;
      rpc_.mark_in_use(plan.servers, s.cfg.model);
    }
  }
  if (error.empty()) {
    auto u = cluster::parse_node_url(url);
    bool up = false;
    if (u) {
      cluster::NodeUrl where = *u;
      up = co_await wait_ready(s, where, agent_id, error);
    }
    if (!up) {
      if (error.empty()) error = fmt::format("the agent gave an unusable address: {}", url);
      const std::string target = "/hydra/agent/llama-server/" + agent_id, none;
      co_await agent(s, verb::delete_, target, none, std::chrono::seconds(2));
      rpc_.release(s.cfg.model);
      s.agent_id.clear();
      s.servers.clear();
      s.split.clear();
    } else {
      const std::size_t index = gw_.cluster.add_coordinator(*u, s.cfg.model);
      s.node_id = gw_.cluster.snapshot()->nodes[index].id;
      // Routable once the fleet's first probe of it has read its model.
      asio::steady_timer pause(gw_.control);
      for (int i = 0; i < 200; ++i) {
        auto snap = gw_.cluster.snapshot();
        if (!snap->holders_of(s.cfg.model).empty()) break;
        pause.expires_after(std::chrono::milliseconds(50));
        co_await pause.async_wait(http::use_nothrow);
      }
    }
  }
  if (error.empty()) {
    s.phase = Phase::ready;
    ++s.starts;
    s.agent_misses = 0;
    note(s, fmt::format("coordinator {} is ready", s.node_id));
  } else {
    s.phase = Phase::failed;
    s.reason = fmt::format("sharded model {} cannot be served: {}", s.cfg.model, error);
    note(s, error);
  }
  settled->cancel();
}

awaitable<void> Shards::stop(State& s, std::string why) {
  // Stopped at once, before the agent is asked: a request meanwhile starts it again.
  const std::string agent_id = s.agent_id, node_id = s.node_id;
  s.node_id.clear();
  s.agent_id.clear();
  s.servers.clear();
  s.split.clear();
  s.phase = Phase::stopped;
  note(s, why);
  if (!node_id.empty()) gw_.cluster.remove_node(node_id);
  rpc_.release(s.cfg.model);
  if (!agent_id.empty()) {
    const std::string target = "/hydra/agent/llama-server/" + agent_id, none;
    co_await agent(s, verb::delete_, target, none, std::chrono::seconds(2));
  }
}

awaitable<void> Shards::check(State& s) {
  if (s.phase != Phase::ready || s.checking) co_return;  // one check at a time (the watch's, a request's)
  s.checking = true;
  struct Done {
    State& s;
    ~Done() { s.checking = false; }
  } done{s};
  // Idle: stopped after keep_alive with nothing in flight there.
  auto snapshot = gw_.cluster.snapshot();
  int in_flight = 0;
  for (const auto& n : snapshot->nodes)
    if (n.id == s.node_id && !n.removed) in_flight = cluster::busy(n);
  if (in_flight == 0 && Clock::now() - s.last_used > s.cfg.keep_alive) {
    std::string why = fmt::format("coordinator stopped: idle for keep_alive_s ({} s)",
                                  std::chrono::duration_cast<std::chrono::seconds>(s.cfg.keep_alive).count());
    co_await stop(s, why);
    co_return;
  }
  Process p = co_await process(s, s.agent_id);
  if (p.kind == Process::unknown) {
    if (++s.agent_misses < 3) co_return;
  } else {
    s.agent_misses = 0;
    if (p.kind == Process::running) co_return;
    s.reason = fmt::format("exited with status {}", p.status);
  }
  const std::string why = s.agent_misses >= 3 ? fmt::format("its agent at {} stopped answering", s.cfg.coordinator)
                                              : fmt::format("it {} (an rpc-server it used may have gone)", s.reason);
  s.agent_id.clear();  // nothing to stop there
  std::string ended = fmt::format("coordinator {} ended: {}; planning again with the rpc-servers left", s.node_id, why);
  co_await stop(s, ended);
  ++s.restarts;
  co_await bring_up(s);
}

awaitable<void> Shards::watch() {
  asio::steady_timer timer(gw_.control);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(http::use_nothrow);
    for (auto& s : states_) co_await check(s);
  }
}

void Shards::start() {
  if (!states_.empty()) asio::co_spawn(gw_.control, watch(), hydra::logged("the sharded models' watch"));
}

void Shards::publish() {
  json::array out;
  for (const auto& s : states_) {
    json::object o;
    o["model"] = s.cfg.model;
    o["state"] = phase_name(s.phase);
    o["coordinator"] = s.cfg.coordinator;
    o["node"] = s.node_id;
    json::array servers, split, events;
    for (const auto& e : s.servers) servers.emplace_back(e);
    for (double x : s.split) split.emplace_back(x);
    for (const auto& e : s.events) events.emplace_back(e);
    o["rpc_servers"] = std::move(servers);
    o["tensor_split"] = std::move(split);
    o["restarts"] = s.restarts;
    if (s.phase == Phase::failed) o["reason"] = s.reason;
    o["events"] = std::move(events);
    out.push_back(std::move(o));
  }
  published_.store(std::make_shared<const json::array>(std::move(out)));
}

std::vector<telemetry::ShardSample> Shards::samples() const {
  std::vector<telemetry::ShardSample> out;
  for (const auto& v : *json()) {
    const auto& o = v.as_object();
    out.push_back(telemetry::ShardSample{std::string(o.at("model").as_string()), std::string(o.at("state").as_string()),
                                         o.at("rpc_servers").as_array().size(), o.at("restarts").to_number<uint64_t>()});
  }
  return out;
}

}  // namespace hydra::api
