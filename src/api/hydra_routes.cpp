// Hydra's own API (issue #6 grows it): for now GET /nodes, the fleet as the gateway sees it.
#include "api/gateway.hpp"
#include "common/json.hpp"

#include <boost/json/value.hpp>

namespace hydra::api {

namespace json = boost::json;

namespace {

json::object resources_json(const cluster::Resources& r) {
  json::object o;
  o["source"] = cluster::to_string(r.source);  // reported | configured | estimated
  o["known"] = r.known;
  o["vram_total_bytes"] = r.vram_total;
  o["vram_free_bytes"] = r.vram_free;
  o["ram_total_bytes"] = r.ram_total;
  o["ram_free_bytes"] = r.ram_free;
  return o;
}

json::object node_json(const cluster::NodeView& n) {
  json::object o;
  o["id"] = n.id;
  o["url"] = n.url;
  o["health"] = cluster::to_string(n.health);
  o["version"] = n.version;
  o["last_error"] = n.last_error;
  o["consecutive_failures"] = n.consecutive_failures;
  o["ejections"] = n.ejections;
  o["local"] = n.local;
  o["slots"] = n.slots;
  o["in_flight"] = n.live->in_flight.load(std::memory_order_relaxed);
  o["requests"] = n.live->requests.load(std::memory_order_relaxed);
  o["failures"] = n.live->failures.load(std::memory_order_relaxed);
  o["ewma_ttft_ms"] = n.live->ttft_ms.load(std::memory_order_relaxed);
  o["ewma_token_ms"] = n.live->chunk_gap_ms.load(std::memory_order_relaxed);
  o["resources"] = resources_json(n.resources);
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

json::object nodes_body(const cluster::Snapshot& s) {
  json::array nodes;
  for (const auto& n : s.nodes) nodes.push_back(node_json(n));
  return json_field("nodes", std::move(nodes));
}

}  // namespace

void add_hydra_routes(http::Router& router, Gateway& gw) {
  router.add(http::bhttp::verb::get, "/nodes", [&gw](http::Exchange& ex) -> http::awaitable<void> {
    auto snapshot = gw.cluster.snapshot();
    co_await ex.respond_json(http::bhttp::status::ok, nodes_body(*snapshot));
  });
}

}  // namespace hydra::api
