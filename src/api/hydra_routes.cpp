// Hydra's own API (issue #6 grows it): the fleet as the gateway sees it (GET /nodes) and
// registration by agents (POST /nodes/register, POST /nodes/{id}/heartbeat, DELETE /nodes/{id}).
#include "api/gateway.hpp"
#include "api/shards.hpp"
#include "api/threading.hpp"
#include "api/hydra_api.hpp"
#include "api/shared_sync.hpp"
#include "cluster/node_info.hpp"
#include "common/json.hpp"
#include "common/limits.hpp"
#include "common/percent.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cmath>
#include <fmt/format.h>

namespace hydra::api {

namespace json = boost::json;

namespace {

// The node's memory. A total is known when an agent reported it or the configuration gave it;
// an estimate (the most seen in use) is no total, and says so (`*_total_known`: false).
json::object resources_json(const cluster::NodeView& n) {
  const cluster::Resources& r = n.resources;
  using Source = cluster::Resources::Source;
  uint64_t vram_in_models = 0, ram_in_models = 0;
  for (const auto& m : n.resident) {
    vram_in_models += m.size_vram;
    ram_in_models += m.size > m.size_vram ? m.size - m.size_vram : 0;
  }
  const bool reported = r.source == Source::reported;
  const bool vram_known = r.source != Source::estimated;
  const bool ram_known = r.source != Source::estimated && r.ram_total > 0;
  json::object o;
  o["source"] = cluster::to_string(r.source);  // reported | configured | estimated
  o["known"] = r.known;
  o["vram_total_bytes"] = r.vram_total;
  o["vram_free_bytes"] = r.vram_free;
  o["ram_total_bytes"] = r.ram_total;
  o["ram_free_bytes"] = r.ram_free;
  o["vram_total_known"] = vram_known;
  o["ram_total_known"] = ram_known;
  // In use: the agent's reading (every process), else what the node's loaded models take.
  o["vram_used_bytes"] = reported ? r.vram_total - std::min(r.vram_free, r.vram_total) : vram_in_models;
  o["ram_used_bytes"] = reported && ram_known ? r.ram_total - std::min(r.ram_free, r.ram_total) : ram_in_models;
  return o;
}

// What the node's CapacityLearner knows, per model (also kept when slots are configured).
json::object learned_json(const cluster::NodeView& n) {
  json::object out;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [model, m] : n.live->capacity.models()) {
    json::object o;
    o["slots"] = m.slots;
    o["source"] = m.learned ? "learned" : "default";
    o["baseline_ttfb_ms"] = std::round(m.baseline_ms * 10) / 10;
    o["samples"] = m.samples;
    o["queued"] = m.queued;  // first bytes that came late: the node queued them
    o["most_at_once"] = m.most_running;  // streaming at once with flat first bytes, recently
    o["queued_at"] = m.ceiling;  // 0: none recently; else not tried again for relearn_in_s
    o["relearn_in_s"] = m.ceiling > 0 ? std::max(0.0, std::chrono::duration<double>(m.ceiling_until - now).count()) : 0.0;
    o["load_ms"] = std::round(m.load_ms);
    out[model] = std::move(o);
  }
  return out;
}

json::object node_json(const cluster::NodeView& n) {
  json::object o;
  o["id"] = n.id;
  o["url"] = n.url;
  o["address"] = n.ip;
  o["hostname"] = n.hostname;
  o["health"] = cluster::to_string(n.health);
  o["source"] = cluster::to_string(n.source);
  o["kind"] = cluster::to_string(n.kind);  // ollama | llama-server
  if (!n.coordinator.empty()) o["coordinator_of"] = n.coordinator;  // a sharded model's coordinator
  if (n.busy_reported >= 0) o["busy_reported"] = n.busy_reported;   // llama-server's /slots
  o["name"] = n.name;
  o["version"] = n.version;
  o["last_error"] = n.last_error;
  o["consecutive_failures"] = n.consecutive_failures;
  o["ejections"] = n.ejections;
  o["local"] = n.local;
  const auto slots = cluster::node_slots(n);
  o["slots"] = slots.slots;
  o["slots_source"] = cluster::to_string(slots.source);  // configured | learned | default
  o["slots_learned"] = learned_json(n);
  o["in_flight"] = n.live->in_flight.load(std::memory_order_relaxed);
  // Several gateways: the slots the others hold there (or keep for themselves while Redis is
  // unreachable).
  o["in_flight_elsewhere"] = n.live->elsewhere.load(std::memory_order_relaxed);
  o["requests"] = n.live->requests.load(std::memory_order_relaxed);
  o["failures"] = n.live->failures.load(std::memory_order_relaxed);
  o["ewma_ttft_ms"] = n.live->ttft_ms.load(std::memory_order_relaxed);
  o["ewma_token_ms"] = n.live->chunk_gap_ms.load(std::memory_order_relaxed);
  o["heartbeats"] = n.live->heartbeats.load(std::memory_order_relaxed);
  o["resources"] = resources_json(n);
  json::array models, resident, loading;
  for (const auto& m : n.models) models.push_back(json::value(m.name));
  for (const auto& m : n.resident) {
    json::object r;
    r["name"] = m.name;
    r["size"] = m.size;
    r["size_vram"] = m.size_vram;
    resident.push_back(std::move(r));
  }
  for (const auto& m : n.loading) loading.push_back(json::value(m));
  o["models"] = std::move(models);
  o["resident"] = std::move(resident);
  o["loading"] = std::move(loading);
  return o;
}

// One llama.cpp rpc-server: address, protocol version, devices, and which coordinator of
// Hydra's (its model) is attached.
json::object rpc_json(const cluster::RpcServerView& r) {
  json::object o;
  o["address"] = r.endpoint;
  o["state"] = cluster::to_string(r.state);
  o["version"] = r.version;
  json::array devices;
  for (const auto& d : r.devices) {
    json::object device;
    device["free"] = d.free;
    device["total"] = d.total;
    devices.push_back(std::move(device));
  }
  o["devices"] = std::move(devices);
  o["free_bytes"] = r.free_bytes();
  o["in_use_by"] = r.in_use_by.empty() ? json::value(nullptr) : json::value(r.in_use_by);
  o["source"] = r.discovered ? "discovered" : "configured";
  if (!r.error.empty()) o["error"] = r.error;
  return o;
}

}  // namespace

json::object nodes_json(const cluster::Snapshot& s) {
  json::array nodes;
  for (const auto& n : s.nodes)
    if (!n.removed) nodes.push_back(node_json(n));
  json::object out = json_field("nodes", std::move(nodes));
  json::array rpc;
  for (const auto& r : s.rpc_servers) rpc.push_back(rpc_json(r));
  out["rpc_servers"] = std::move(rpc);  // llama.cpp rpc-servers, for sharding
  return out;
}

namespace {

// IPv4: inside the allowed ranges (default: private ranges and loopback). IPv6: loopback or
// unique-local (fc00::/7).
bool registrable(const boost::asio::ip::address& a, const std::vector<cluster::Cidr>& allowed) {
  if (a.is_v4()) return cluster::allowed(a.to_v4(), allowed);
  return a.is_loopback() || (a.to_v6().to_bytes()[0] & 0xfe) == 0xfc;
}

// Registration and heartbeats are JSON: a cross-origin form or text/plain POST (which a
// browser sends without a CORS preflight) is refused, so a web page cannot register a node.
http::awaitable<bool> require_json(http::Exchange& ex) {
  std::string_view type = ex.request()[http::bhttp::field::content_type];
  if (type.starts_with("application/json")) co_return true;
  co_await ex.respond_error(http::bhttp::status::unsupported_media_type,
                            "send the registration as Content-Type: application/json");
  co_return false;
}

std::optional<cluster::Resources> resources_in(const json::object& body) {
  const json::value* r = body.if_contains("resources");
  if (!r || !r->is_object()) return std::nullopt;
  return cluster::parse_agent(r->get_object());
}

// The agent's memory readings, in MiB: whole numbers up to 2^40 MiB (an exabyte), so that
// summing them in bytes cannot wrap. Empty when fine, else the 400 message naming the field.
std::string check_resources(const json::object& body) {
  const json::value* r = body.if_contains("resources");
  if (!r || r->is_null()) return {};
  if (!r->is_object()) return "resources must be an object ({gpus: [...], ram: {...}}, as hydra agent reports)";
  constexpr int64_t kMaxMib = int64_t{1} << 40;
  auto check = [&](const json::object& o, std::string_view path, std::string_view key) -> std::string {
    const json::value* v = o.if_contains(key);
    if (!v || v->is_null()) return {};
    boost::system::error_code ec;
    const int64_t mib = v->is_number() ? v->to_number<int64_t>(ec) : -1;
    if (v->is_number() && !ec && mib >= 0 && mib <= kMaxMib) return {};
    return fmt::format("resources.{}{} must be a whole number of MiB from 0 to {}", path, key, kMaxMib);
  };
  const json::object& res = r->get_object();
  const json::value* gpus = res.if_contains("gpus");
  if (gpus && !gpus->is_null() && !gpus->is_array()) return "resources.gpus must be a list of GPUs";
  const json::value* ram = res.if_contains("ram");
  if (ram && !ram->is_null() && !ram->is_object()) return "resources.ram must be an object";
  if (gpus && gpus->is_array()) {
    for (std::size_t i = 0; i < gpus->get_array().size(); ++i) {
      const json::object* g = gpus->get_array()[i].if_object();
      if (!g) return fmt::format("resources.gpus[{}] must be an object", i);
      const std::string path = fmt::format("gpus[{}].", i);
      for (const char* key : {"memory_total_mib", "memory_free_mib"})
        if (auto e = check(*g, path, key); !e.empty()) return e;
    }
  }
  if (ram && ram->is_object())
    for (const char* key : {"total_mib", "available_mib"})
      if (auto e = check(ram->get_object(), "ram.", key); !e.empty()) return e;
  return {};
}

// A node id in a path: at most limits::kNameBytes (ids are "host:port").
std::string check_node_id(std::string_view id) {
  if (id.size() <= limits::kNameBytes) return {};
  return fmt::format("a node id is at most {} bytes", limits::kNameBytes);
}

json::object registered_body(const cluster::NodeView& n, Nanos grace) {
  json::object o = json_field("id", n.id);
  o["url"] = n.url;
  o["heartbeat_s"] = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(grace).count() / 3);
  return o;
}

// Checks a registration; an empty string means fine, else the 400/403 message.
std::pair<http::bhttp::status, std::string> check_registration(const json::object& body, cluster::NodeUrl& url,
                                                               const std::vector<cluster::Cidr>& allowed) {
  using http::bhttp::status;
  const json::value* u = body.if_contains("url");
  if (!u || u->is_null()) return {status::bad_request, "url is required (the node's Ollama URL)"};
  if (!u->is_string()) return {status::bad_request, "url must be a string (the node's Ollama URL)"};
  if (const json::value* name = body.if_contains("name"); name && !name->is_null() && !name->is_string())
    return {status::bad_request, "name must be a string"};
  // Checked before anything is parsed, echoed or recorded.
  if (u->get_string().size() > limits::kNameBytes)
    return {status::bad_request, fmt::format("url must be at most {} bytes", limits::kNameBytes)};
  if (const json::value* name = body.if_contains("name");
      name && name->is_string() && name->get_string().size() > limits::kNameBytes)
    return {status::bad_request, fmt::format("name must be at most {} bytes", limits::kNameBytes)};
  if (std::string bad = check_resources(body); !bad.empty()) return {status::bad_request, bad};
  auto parsed = cluster::parse_node_url(u->get_string());
  if (!parsed) return {status::bad_request, fmt::format("bad node URL \"{}\"", std::string(u->get_string()))};
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(parsed->host, ec);
  if (ec) return {status::bad_request, "register with the node's IP address, not a host name"};
  if (!registrable(address, allowed))
    return {status::forbidden, fmt::format("{} is outside the allowed ranges (discovery.allowed)", parsed->host)};
  url = *parsed;
  return {status::ok, {}};
}

// "/nodes/{id}/heartbeat" -> id; "/nodes/{id}" -> id (suffix ""), percent-decoded: agents
// send "127.0.0.1%3A11434".
std::string node_id_in(std::string_view path, std::string_view suffix) {
  path.remove_prefix(std::string_view("/nodes/").size());
  if (!suffix.empty()) {
    if (!path.ends_with(suffix)) return {};
    path.remove_suffix(suffix.size());
  }
  return path.find('/') == std::string_view::npos ? percent_decode(path) : std::string();
}

// Who may call these (the token, admin keys, closed registration) is the access guard's
// business (access.cpp): a request that gets here is allowed.
http::awaitable<void> register_node(Gateway& gw, http::Exchange& ex) {
  if (!co_await require_json(ex)) co_return;
  auto parsed = parse_json_object(ex.body());
  if (auto* err = std::get_if<JsonError>(&parsed)) {
    co_await ex.respond_error(http::bhttp::status::bad_request, err->message);
    co_return;
  }
  const auto& body = std::get<json::object>(parsed);
  cluster::Cluster::Registration r;
  auto [code, problem] = check_registration(body, r.url, gw.registration.allowed);
  if (!problem.empty()) {
    co_await ex.respond_error(code, problem);
    co_return;
  }
  if (const json::value* name = body.if_contains("name"); name && name->is_string()) r.name = std::string(name->get_string());
  r.resources = resources_in(body);
  std::size_t index = gw.cluster.register_node(r, gw.registration.grace);
  auto snapshot = gw.cluster.snapshot();
  if (gw.shared) gw.shared->registered(snapshot->nodes[index].id, body, gw.registration.grace);
  co_await ex.respond_json(http::bhttp::status::ok, registered_body(snapshot->nodes[index], gw.registration.grace));
}

http::awaitable<void> heartbeat(Gateway& gw, http::Exchange& ex) {
  if (!ex.body().empty() && !co_await require_json(ex)) co_return;
  std::string id = node_id_in(ex.path(), "/heartbeat");
  std::string bad = check_node_id(id);
  std::optional<cluster::Resources> resources;
  auto parsed = parse_json_object(ex.body());
  if (auto* body = std::get_if<json::object>(&parsed)) {
    if (bad.empty()) bad = check_resources(*body);
    resources = resources_in(*body);
  }
  if (!bad.empty()) {
    co_await ex.respond_error(http::bhttp::status::bad_request, bad);
    co_return;
  }
  if (id.empty() || !gw.cluster.heartbeat(id, resources, gw.registration.grace)) {
    co_await ex.respond_error(http::bhttp::status::not_found, "unknown node: register again");
    co_return;
  }
  if (gw.shared) gw.shared->renewed(id, gw.registration.grace);
  co_await ex.respond_json(http::bhttp::status::ok, json_field("id", id));
}

http::awaitable<void> remove_node(Gateway& gw, http::Exchange& ex) {
  std::string id = node_id_in(ex.path(), "");
  if (std::string bad = check_node_id(id); !bad.empty()) {
    co_await ex.respond_error(http::bhttp::status::bad_request, bad);
    co_return;
  }
  if (id.empty() || !gw.cluster.remove_node(id)) {
    co_await ex.respond_error(http::bhttp::status::not_found, "unknown node");
    co_return;
  }
  if (gw.shared) gw.shared->removed(id);
  co_await ex.respond_json(http::bhttp::status::ok, json_field("removed", id));
}

}  // namespace

json::object fleet_json(const Gateway& gw, const cluster::Snapshot& snapshot) {
  json::object out = nodes_json(snapshot);
  if (gw.shared) out["gateways"] = gw.shared->json().at("gateways");  // several gateways: the live ones
  if (gw.shards) out["sharded"] = *gw.shards->json();  // models sharded over rpc-servers
  return out;
}

bool register_from_elsewhere(Gateway& gw, const json::object& body, Nanos ttl) {
  const json::value* u = body.if_contains("url");
  const json::value* id = body.if_contains("id");
  if (!u || !u->is_string() || !id || !id->is_string()) return false;
  if (gw.cluster.extend(std::string(id->get_string()), ttl)) return true;  // known here: renewed
  auto url = cluster::parse_node_url(u->get_string());
  if (!url || !check_resources(body).empty()) return false;
  cluster::Cluster::Registration r;
  r.url = *url;
  if (const json::value* name = body.if_contains("name"); name && name->is_string()) r.name = std::string(name->get_string());
  r.resources = resources_in(body);
  gw.cluster.register_node(r, ttl);
  return true;
}

void add_hydra_routes(http::Router& router, Gateway& gw) {
  using http::bhttp::verb;
  router.add(verb::get, "/nodes", [&gw](http::Exchange& ex) -> http::awaitable<void> {
    co_await settle_workers(gw);
    auto snapshot = gw.cluster.snapshot();
    co_await ex.respond_json(http::bhttp::status::ok, fleet_json(gw, *snapshot));
  });
  router.add(verb::post, "/nodes/register", [&gw](http::Exchange& ex) { return register_node(gw, ex); });
  router.add_prefix(verb::post, "/nodes/", [&gw](http::Exchange& ex) { return heartbeat(gw, ex); });
  router.add_prefix(verb::delete_, "/nodes/", [&gw](http::Exchange& ex) { return remove_node(gw, ex); });
}

}  // namespace hydra::api
