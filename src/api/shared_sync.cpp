#include "api/shared_sync.hpp"

#include "api/gateway.hpp"
#include "common/spawn.hpp"
#include "common/timefmt.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <random>
#include <spdlog/spdlog.h>

namespace hydra::api {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::string random_hex() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

std::chrono::milliseconds beat_interval(const state::SharedSettings& s) {
  return std::clamp(s.lease_ttl / 3, std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
}

std::optional<json::object> object_of(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace

SharedSync::SharedSync(Gateway& gw, state::Shared& shared, std::string public_url)
    : gw_(gw), shared_(shared), public_url_(std::move(public_url)), epoch_candidate_(random_hex()),
      since_(std::chrono::system_clock::now()),
      // Read once: the same instant in every beat (now - uptime moved by a few microseconds).
      started_(rfc3339(std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                               std::chrono::steady_clock::now() - gw.started))) {}

void SharedSync::start() {
  gw_.cluster.on_eject([this](const cluster::NodeView& node, Nanos backoff) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(backoff);
    asio::co_spawn(gw_.control, shared_.eject(node.id, node.last_error, ms), [](std::exception_ptr e, bool) {
      hydra::log_exception(e, "telling the other gateways of an ejection");
    });
  });
  shared_.listen([this](state::Message m) {
    // (asio::post, not post_control: this Redis thread has no gateway thread index)
    asio::post(gw_.control, [this, m = std::move(m)] { on_message(m); });
  });
  asio::co_spawn(gw_.control, beat_loop(), hydra::logged("the shared state's beat"));
}

std::string SharedSync::info() const {
  json::object o;
  o["id"] = shared_.settings().gateway_id;
  o["url"] = public_url_;
  o["version"] = gw_.version;
  o["instance"] = epoch_candidate_;  // this process (another one with the same id has another)
  o["started"] = started_;
  return json::serialize(o);
}

http::awaitable<void> SharedSync::leave() {
  if (degraded_) co_return;  // Redis does not answer: lease_ttl ends it there
  const std::string instance = epoch_candidate_;
  if (co_await shared_.leave(instance))
    spdlog::info("shared state: gateway {} left; the others no longer count it", shared_.settings().gateway_id);
}

http::awaitable<void> SharedSync::beat_loop() {
  asio::steady_timer timer(gw_.control);
  const auto every = beat_interval(shared_.settings());
  while (!gw_.lifecycle.draining()) {
    co_await beat_once();
    timer.expires_after(every);
    co_await timer.async_wait(http::use_nothrow);
  }
}

http::awaitable<void> SharedSync::beat_once() {
  const bool was_degraded = degraded_;
  auto view = co_await shared_.beat(info(), epoch_candidate_);
  if (!view) {
    degrade();
    co_return;
  }
  if (was_degraded) {
    if (ever_up_) spdlog::info("shared state: Redis answers again; {} gateway(s) share the fleet", view->members.size());
    else spdlog::info("shared state: {} gateway(s) share the fleet through Redis", view->members.size());
    degraded_ = false;
    since_ = std::chrono::system_clock::now();
    // What this gateway holds goes back (its leases expired in Redis while it could not renew
    // them); what was registered through it meanwhile follows below.
    if (ever_up_) restore();
  }
  const bool lost = !epoch_.empty() && view->epoch != epoch_;
  if (lost) {
    spdlog::warn("shared state: Redis lost its data (restarted?); putting back this gateway's share");
    restore();
    for (const auto& [id, body] : bodies_) unsynced_.insert(id);
  }
  epoch_ = view->epoch;
  ever_up_ = true;
  // Deletions Redis missed go now (apply() skips those nodes, which the view may still list);
  // so do registrations that never reached it (the view may lack them: not forgotten below).
  for (const auto& id : std::vector<std::string>(dropped_.begin(), dropped_.end()))
    asio::co_spawn(gw_.control, drop_node(id), hydra::logged("a deletion sent to Redis"));
  for (const auto& id : std::exchange(unsynced_, {})) {
    if (!bodies_.contains(id)) continue;
    pending_.insert(id);
    asio::co_spawn(gw_.control, put_node(id, gw_.registration.grace), hydra::logged("a registration sent to Redis"));
  }
  apply(*view);
  shared_.put_stats(json::serialize(stats_body(gw_)));
}

void SharedSync::degrade() {
  if (!degraded_ || (!ever_up_ && outages_ == 0)) {  // (at start: unreachable from the first beat on)
    ++outages_;
    since_ = std::chrono::system_clock::now();
    spdlog::warn("shared state: Redis does not answer; serving on this gateway's own view, each node's slots split "
                 "among the {} gateway(s) last seen",
                 std::max<std::size_t>(members_.size(), 1));
  }
  degraded_ = true;
  // Each node's slots split among the gateways last seen: this one uses its share, the rest
  // counts as held elsewhere.
  std::vector<std::string> ids;
  for (const auto& m : members_) ids.push_back(m.id);
  const std::string& me = shared_.settings().gateway_id;
  if (std::find(ids.begin(), ids.end(), me) == ids.end()) ids.push_back(me);
  std::sort(ids.begin(), ids.end());
  const auto rank = static_cast<std::size_t>(std::find(ids.begin(), ids.end(), me) - ids.begin());
  auto snapshot = gw_.cluster.snapshot();
  for (const auto& n : snapshot->nodes) {
    const int slots = cluster::node_slots(n).slots;
    const int others = slots - state::degraded_share(slots, ids.size(), rank, n.id);
    const int before = n.live->elsewhere.exchange(std::max(others, 0), std::memory_order_relaxed);
    if (others < before) gw_.admission.freed(n.index);
  }
}

void SharedSync::apply(const state::BeatView& view) {
  members_ = view.members;
  // Another process beating with this id overwrites this one's info between two beats. Seen
  // once, it may be this gateway's own previous life (a restart within the TTL); twice running,
  // it is another gateway.
  if (auto before = object_of(view.previous)) {
    const json::value* instance = before->if_contains("instance");
    const bool foreign = instance && instance->is_string() && instance->get_string() != epoch_candidate_;
    foreign_beats_ = foreign ? foreign_beats_ + 1 : 0;
    own_beats_ = foreign ? 0 : own_beats_ + 1;
    if (foreign_beats_ >= 2 && !id_taken_) {
      id_taken_ = true;
      spdlog::error("shared state: another gateway uses the id {} too; their slot leases and limits are counted as one "
                    "(give each gateway its own --gateway-id)",
                    shared_.settings().gateway_id);
    }
    // The other one stopped (or took another id): three beats in a row found only this one's.
    if (id_taken_ && own_beats_ >= 3) {
      id_taken_ = false;
      spdlog::info("shared state: the id {} is this gateway's alone again", shared_.settings().gateway_id);
    }
  }
  auto snapshot = gw_.cluster.snapshot();
  for (const auto& n : snapshot->nodes) {
    auto it = view.elsewhere.find(n.id);
    const int others = it == view.elsewhere.end() ? 0 : it->second;
    const int before = n.live->elsewhere.exchange(others, std::memory_order_relaxed);
    if (others < before) gw_.admission.freed(n.index);  // slots came free elsewhere: waiters here may take them
  }
  // Registered nodes: Redis's list is the fleet's. Each is added or renewed here for what is
  // left of its grace; one registered here that Redis no longer has was deleted or expired.
  std::set<std::string> stored;
  for (const auto& s : view.nodes) {
    stored.insert(s.id);
    if (dropped_.contains(s.id)) continue;  // deleted here; Redis hears of it now
    auto body = object_of(s.value);
    if (!body) continue;
    bodies_[s.id] = s.value;
    register_from_elsewhere(gw_, *body, std::chrono::milliseconds(std::max<int64_t>(s.ttl_ms, 1)));
  }
  for (const auto& id : gw_.cluster.registered_ids()) {
    if (stored.contains(id) || pending_.contains(id) || unsynced_.contains(id)) continue;
    spdlog::info("node {} forgotten: no gateway has it registered any more", id);
    bodies_.erase(id);
    gw_.cluster.remove_node(id);
  }
  const std::string& me = shared_.settings().gateway_id;
  for (const auto& e : view.ejects) {
    const auto tab = e.value.find('\t');
    const std::string by = e.value.substr(0, tab);
    if (by == me || e.ttl_ms <= 0) continue;
    const std::string reason = tab == std::string::npos ? "" : e.value.substr(tab + 1);
    auto snapshot_now = gw_.cluster.snapshot();
    bool already = false;
    for (const auto& n : snapshot_now->nodes)
      if (n.id == e.id) already = n.health == cluster::Health::ejected;
    if (!already)
      gw_.cluster.eject_elsewhere(e.id, std::chrono::milliseconds(e.ttl_ms),
                                  fmt::format("ejected by gateway {}: {}", by, reason));
  }
}

void SharedSync::on_message(const state::Message& m) {
  if (m.kind == "node+") {
    auto body = object_of(m.body);
    if (!body) return;
    const json::value* grace = body->if_contains("grace_ms");
    const int64_t ms = grace && grace->is_int64() ? grace->get_int64() : 0;
    const json::value* id = body->if_contains("id");
    if (id && id->is_string()) bodies_[std::string(id->get_string())] = m.body;
    register_from_elsewhere(gw_, *body, std::chrono::milliseconds(std::max<int64_t>(ms, 1000)));
  } else if (m.kind == "node-") {
    bodies_.erase(m.body);
    auto snapshot = gw_.cluster.snapshot();
    for (const auto& n : snapshot->nodes)
      if (n.id == m.body && !n.removed && n.source == cluster::NodeSource::registered) {
        gw_.cluster.remove_node(m.body);
        break;
      }
  } else if (m.kind == "eject") {
    // "<id>\t<ms>\t<reason>"
    const auto a = m.body.find('\t');
    const auto b = a == std::string::npos ? a : m.body.find('\t', a + 1);
    if (b == std::string::npos) return;
    int64_t ms = 0;
    std::from_chars(m.body.data() + a + 1, m.body.data() + b, ms);
    gw_.cluster.eject_elsewhere(m.body.substr(0, a), std::chrono::milliseconds(std::max<int64_t>(ms, 1)),
                                fmt::format("ejected by gateway {}: {}", m.gateway, m.body.substr(b + 1)));
  } else if (m.kind == "freed") {
    auto snapshot = gw_.cluster.snapshot();
    for (const auto& n : snapshot->nodes) {
      if (n.id != m.body || n.removed) continue;
      int e = n.live->elsewhere.load(std::memory_order_relaxed);
      while (e > 0 && !n.live->elsewhere.compare_exchange_weak(e, e - 1, std::memory_order_relaxed)) {
      }
      gw_.admission.freed(n.index);
      break;
    }
  } else if (m.kind == "request") {
    // Another gateway's request, with its routing decision: both reach this gateway's /events.
    if (!gw_.telemetry.events.subscribers()) return;
    auto body = object_of(m.body);
    if (!body) return;
    (*body)["gateway"] = m.gateway;
    if (json::value* routing = body->if_contains("routing"); routing && routing->is_object()) {
      routing->get_object()["gateway"] = m.gateway;
      gw_.telemetry.events.publish("routing", routing->get_object());
    }
    gw_.telemetry.events.publish("request", *body);
  }
}

http::awaitable<bool> SharedSync::confirm(std::size_t node, const std::string& model) {
  if (!shared_.up() || degraded_) co_return true;  // the local shares decide
  auto snapshot = gw_.cluster.snapshot();
  if (node >= snapshot->nodes.size()) co_return true;
  const cluster::NodeView& n = snapshot->nodes[node];
  auto got = co_await shared_.acquire(n.id, cluster::slots_for(n, model).slots);
  if (!got) co_return true;  // no answer in time: as if degraded, for this request
  n.live->elsewhere.store(got->elsewhere, std::memory_order_relaxed);
  co_return got->granted;
}

void SharedSync::released(std::size_t node) {
  auto snapshot = gw_.cluster.snapshot();
  if (node < snapshot->nodes.size()) shared_.release(snapshot->nodes[node].id);
}

bool SharedSync::hold(std::size_t node) {
  if (!shared_.up() || degraded_) return false;
  auto snapshot = gw_.cluster.snapshot();
  if (node >= snapshot->nodes.size()) return false;
  shared_.hold(snapshot->nodes[node].id);
  return true;  // the caller marks the lease shared (counted_shared)
}

void SharedSync::restore() {
  std::map<std::string, int> held;
  auto snapshot = gw_.cluster.snapshot();
  for (const auto& n : snapshot->nodes)
    if (int used = n.live->counted_shared.load(std::memory_order_relaxed); used > 0) held["node:" + n.id] = used;
  shared_.restore(held);
}

void SharedSync::registered(const std::string& id, json::object body, Nanos grace) {
  body["id"] = id;
  body["grace_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(grace).count();
  bodies_[id] = json::serialize(body);
  pending_.insert(id);
  asio::co_spawn(gw_.control, put_node(id, grace), hydra::logged("a registration sent to Redis"));
}

void SharedSync::renewed(const std::string& id, Nanos grace) {
  if (!bodies_.contains(id) || pending_.contains(id)) return;
  pending_.insert(id);
  asio::co_spawn(gw_.control, put_node(id, grace), hydra::logged("a registration sent to Redis"));
}

http::awaitable<void> SharedSync::put_node(std::string id, Nanos grace) {
  auto it = bodies_.find(id);
  bool ok = false;
  if (it != bodies_.end())
    ok = co_await shared_.put_node(id, it->second, std::chrono::duration_cast<std::chrono::milliseconds>(grace));
  pending_.erase(id);
  if (!ok && bodies_.contains(id)) unsynced_.insert(id);
}

void SharedSync::removed(const std::string& id) {
  bodies_.erase(id);
  unsynced_.erase(id);
  dropped_.insert(id);
  asio::co_spawn(gw_.control, drop_node(id), hydra::logged("a deletion sent to Redis"));
}

http::awaitable<void> SharedSync::drop_node(std::string id) {
  // Until Redis has forgotten it, the beat does not take it back from Redis's list.
  const bool dropped = co_await shared_.drop_node(id);  // (not in the if: g++ 12 frees the temporary twice)
  if (dropped) dropped_.erase(id);
}

void SharedSync::put_run(const std::string& id, std::string json) { shared_.put_run(id, std::move(json)); }

std::string SharedSync::metrics(uint64_t refused) const {
  std::string out;
  out += "# HELP hydra_shared_redis_up Whether the Redis that several gateways share answers (0: serving on this gateway's own view).\n";
  out += "# TYPE hydra_shared_redis_up gauge\n";
  out += fmt::format("hydra_shared_redis_up {}\n", degraded_ ? 0 : 1);
  out += "# HELP hydra_shared_outages_total Times the shared Redis stopped answering.\n";
  out += "# TYPE hydra_shared_outages_total counter\n";
  out += fmt::format("hydra_shared_outages_total {}\n", outages_);
  out += "# HELP hydra_shared_gateways Live gateways sharing the fleet, this one included (as last seen).\n";
  out += "# TYPE hydra_shared_gateways gauge\n";
  out += fmt::format("hydra_shared_gateways {}\n", members_.size());
  out += "# HELP hydra_shared_redis_commands_total Commands sent to the shared Redis.\n";
  out += "# TYPE hydra_shared_redis_commands_total counter\n";
  out += fmt::format("hydra_shared_redis_commands_total {}\n", shared_.round_trips());
  out += "# HELP hydra_shared_redis_errors_total Commands to the shared Redis that failed or got no reply in time.\n";
  out += "# TYPE hydra_shared_redis_errors_total counter\n";
  out += fmt::format("hydra_shared_redis_errors_total {}\n", shared_.errors());
  out += "# HELP hydra_shared_slots_refused_total Slots free as this gateway counted that Redis refused (held through other gateways).\n";
  out += "# TYPE hydra_shared_slots_refused_total counter\n";
  out += fmt::format("hydra_shared_slots_refused_total {}\n", refused);
  return out;
}

json::object SharedSync::json() const {
  json::object o;
  o["status"] = degraded_ || id_taken_ ? "degraded" : "healthy";
  if (id_taken_) o["problem"] = "another gateway uses this gateway's id (--gateway-id)";
  o["redis"] = degraded_ ? "unreachable" : "up";
  o["gateway_id"] = shared_.settings().gateway_id;
  o["since"] = rfc3339(since_);
  o["outages"] = outages_;
  o["redis_errors"] = shared_.errors();
  o["redis_commands"] = shared_.round_trips();
  json::array gateways;
  for (const auto& m : members_) {
    json::object g = object_of(m.info).value_or(json::object{});
    g["id"] = m.id;
    g["self"] = m.id == shared_.settings().gateway_id;
    gateways.push_back(std::move(g));
  }
  o["gateways"] = std::move(gateways);
  return o;
}

}  // namespace hydra::api
