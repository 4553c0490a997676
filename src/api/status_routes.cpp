// Hydra's read-only views of itself: GET /health, /stats, /models, /routing.
#include "api/gateway.hpp"
#include "api/hydra_api.hpp"
#include "memory/cache.hpp"
#include "api/threading.hpp"
#include "api/model_caller.hpp"
#include "api/shared_sync.hpp"
#include "common/json.hpp"
#include "common/query.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <set>

namespace hydra::api {

namespace json = boost::json;
using http::bhttp::status;

namespace {

double uptime_s(const Gateway& gw) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - gw.started).count();
}

json::object cluster_json(const cluster::Snapshot& s) {
  int64_t total = 0, healthy = 0, in_flight = 0;
  for (const auto& n : s.nodes) {
    if (n.removed) continue;
    ++total;
    healthy += n.routable();
    in_flight += n.live->in_flight.load(std::memory_order_relaxed);
  }
  json::object o;
  o["nodes_total"] = total;
  o["nodes_healthy"] = healthy;
  o["models"] = available_models(s).size();
  o["in_flight"] = in_flight;
  o["rpc_servers"] = s.rpc_servers.size();
  return o;
}

json::object queue_json(const Admission& a) {
  json::object o;
  o["waiting"] = a.waiting();
  o["capacity"] = a.settings().max_waiting;
  o["max_wait_s"] = std::chrono::duration<double>(a.settings().max_wait).count();
  o["admitted"] = a.totals().admitted;
  o["admitted_by_workers"] = a.admitted_by_workers();
  o["queued"] = a.totals().queued;
  o["rejected"] = a.totals().rejected;
  o["abandoned"] = a.totals().abandoned;
  return o;
}

json::object routing_totals(const telemetry::RoutingLog& log) {
  const auto& t = log.totals();
  json::object by_node;
  for (const auto& [node, n] : t.by_node) by_node[node] = n;
  json::object o;
  o["decisions"] = t.decisions;
  o["unserved"] = t.unserved;
  o["failovers"] = t.failovers;
  o["queued"] = t.queued;
  o["abandoned"] = t.abandoned;
  o["by_node"] = std::move(by_node);
  return o;
}

}  // namespace

json::object stats_body(const Gateway& gw) {
  json::object o;
  o["uptime_s"] = uptime_s(gw);
  o["threads"] = gw.threads;
  o["cluster"] = cluster_json(*gw.cluster.snapshot());
  o["requests"] = gw.telemetry.requests.to_json();
  o["routing"] = routing_totals(gw.telemetry.routing);
  o["queue"] = queue_json(gw.admission);
  o["cache"] = cache_json(gw);
  const auto& m = gw.telemetry.metrics;
  o["prefix"] = json::object{{"requests", m.prefix_requests()}, {"hits", m.prefix_hits()},
                             {"tokens_matched", m.prefix_tokens()}, {"sequences", gw.prefix_index.sequences()},
                             {"sessions", gw.sessions.size()}};
  if (!gw.auth.keys->empty()) {
    json::object keys;
    for (const auto& k : key_samples(gw)) {
      json::object e;
      e["requests"] = k.requests;
      e["tokens"] = k.tokens;
      e["in_progress"] = k.in_progress;
      json::object refused;
      for (const auto& [reason, n] : k.refused) refused[reason] = n;
      e["refused"] = std::move(refused);
      keys[k.name.empty() ? "(no valid key)" : k.name] = std::move(e);
    }
    o["keys"] = std::move(keys);
  }
  return o;
}

namespace {

// One entry per model name: the nodes that have it, those holding it in memory, its size.
json::object models_body(const cluster::Snapshot& s) {
  struct Entry {
    json::array nodes, resident_on;
    uint64_t size = 0;
  };
  std::map<std::string, Entry> by_name;
  for (const auto& n : s.nodes) {
    if (!n.routable()) continue;
    for (const auto& m : n.models) {
      Entry& e = by_name[m.name];
      e.nodes.push_back(json::value(n.id));
      e.size = std::max(e.size, m.size);
    }
    for (const auto& r : n.resident) {
      Entry& e = by_name[r.name];
      e.resident_on.push_back(json::value(n.id));
    }
  }
  json::array models;
  for (auto& [name, e] : by_name) {
    json::object m;
    m["name"] = name;
    m["nodes"] = std::move(e.nodes);
    m["resident_on"] = std::move(e.resident_on);
    m["size"] = e.size;
    models.push_back(std::move(m));
  }
  return json_field("models", std::move(models));
}

// healthy: every node routable and the queue has room; degraded: some nodes down, or the
// queue is over three quarters full; unhealthy (503): no node can serve at all; draining
// (503): the gateway is shutting down.
std::pair<status, json::object> health_body(const Gateway& gw) {
  json::object cluster = cluster_json(*gw.cluster.snapshot());
  const int64_t total = cluster.at("nodes_total").as_int64(), healthy = cluster.at("nodes_healthy").as_int64();
  const auto& q = gw.admission.settings();
  const bool queue_pressed = q.max_waiting > 0 && gw.admission.waiting() * 4 > q.max_waiting * 3;
  std::string overall = healthy == 0 ? "unhealthy" : (healthy < total || queue_pressed) ? "degraded" : "healthy";

  json::object nodes;
  nodes["status"] = healthy == 0 ? "unhealthy" : healthy < total ? "degraded" : "healthy";
  nodes["healthy"] = healthy;
  nodes["total"] = total;
  json::object queue;
  queue["status"] = queue_pressed ? "degraded" : "healthy";
  queue["waiting"] = gw.admission.waiting();
  queue["capacity"] = q.max_waiting;
  json::object database;
  database["status"] = gw.runs ? "healthy" : "disabled";
  json::object components;
  components["nodes"] = std::move(nodes);
  components["queue"] = std::move(queue);
  {
    json::object cache = cache_json(gw);
    // Redis down: the cache still answers from its other tiers.
    cache["status"] = !gw.cache ? "disabled" : gw.cache->has_l3() && !gw.cache->l3_up() ? "degraded" : "healthy";
    components["cache"] = std::move(cache);
  }
  components["database"] = std::move(database);
  if (gw.shared) {
    // Redis unreachable: this gateway serves on its own view (degraded, not unhealthy).
    json::object shared = gw.shared->json();
    if (shared.at("status") == "degraded" && overall == "healthy") overall = "degraded";
    components["shared_state"] = std::move(shared);
  }

  json::object o;
  o["status"] = overall;
  o["components"] = std::move(components);
  o["version"] = gw.version;
  o["uptime_s"] = uptime_s(gw);
  if (gw.lifecycle.draining()) {  // shutting down: load balancers should send new work elsewhere
    o["status"] = "draining";
    o["in_flight"] = gw.lifecycle.active();
    return {status::service_unavailable, o};
  }
  return {healthy == 0 ? status::service_unavailable : status::ok, o};
}

// Puts `mine`'s settings (queue capacity, cache budgets and lifetime) back over their sums.
void keep_settings(json::object& summed, const json::object& mine) {
  static const std::set<std::string_view> settings{"capacity", "max_wait_s", "ttl_s", "max_bytes", "threshold",
                                                   "max_entries"};
  for (auto& [key, value] : summed) {
    const json::value* own = mine.if_contains(key);
    if (!own) continue;
    if (settings.contains(key)) value = *own;
    else if (value.is_object() && own->is_object()) keep_settings(value.get_object(), own->get_object());
  }
}

// GET /stats?scope=cluster: every live gateway's figures summed (the fleet's own figures are
// one gateway's: they all see the same nodes). Alone, or with Redis unreachable: this one's.
http::awaitable<void> cluster_stats(Gateway& gw, http::Exchange& ex) {
  json::object mine = stats_body(gw);
  std::optional<std::vector<std::pair<std::string, std::string>>> all;
  if (gw.shared && !gw.shared->degraded()) all = co_await gw.shared->shared().all_stats();
  json::object out;
  json::array ids;
  const std::string me = gw.shared ? gw.shared->shared().settings().gateway_id : std::string("local");
  ids.push_back(json::value(me));
  json::object summed = mine;
  if (all)
    for (const auto& [id, text] : *all) {
      if (id == me) continue;
      boost::system::error_code ec;
      json::value v = json::parse(text, ec);
      if (ec || !v.is_object()) continue;
      add_numbers(summed, v.get_object());
      ids.push_back(json::value(id));
    }
  // Settings are whole numbers too, but each gateway's own: this one's, not a sum.
  keep_settings(summed, mine);
  summed["cluster"] = mine["cluster"];  // the same fleet seen by each
  summed["uptime_s"] = mine["uptime_s"];
  summed["threads"] = mine["threads"];
  summed["scope"] = "cluster";
  summed["complete"] = all.has_value() || !gw.shared;  // false: Redis did not answer, this gateway's only
  summed["gateways"] = std::move(ids);
  co_await ex.respond_json(status::ok, summed);
}

json::object routing_body(const Gateway& gw, std::string_view query) {
  auto limit = std::min<uint64_t>(query_count(query, "limit", 100), 500);  // ?limit=N&after=SEQ
  auto after = query_count(query, "after", 0);
  json::array decisions;
  for (const auto& e : gw.telemetry.routing.recent(limit, after)) decisions.push_back(telemetry::to_json(*e));
  json::object o = json_field("decisions", std::move(decisions));
  o["totals"] = routing_totals(gw.telemetry.routing);
  return o;
}

}  // namespace

void add_status_routes(http::Router& router, Gateway& gw) {
  using http::bhttp::verb;
  router.add({verb::get, verb::head}, "/health", [&gw](http::Exchange& ex) -> http::awaitable<void> {
    auto [code, body] = health_body(gw);
    body["hydra"] = gw.version;  // a gateway (either port), never a node: scans skip it
    co_await ex.respond_json(code, body);
  });
  router.add(verb::get, "/stats", [&gw](http::Exchange& ex) -> http::awaitable<void> {
    co_await settle_workers(gw);
    const std::string scope = query_param(ex.query(), "scope").value_or("gateway");
    if (scope == "cluster") {
      co_await cluster_stats(gw, ex);
      co_return;
    }
    if (scope != "gateway") {
      co_await ex.respond_error(status::bad_request, "scope must be gateway (this one, the default) or cluster (every gateway)");
      co_return;
    }
    json::object body = stats_body(gw);
    body["scope"] = "gateway";  // as ?scope=cluster's says "cluster"
    co_await ex.respond_json(status::ok, body);
  });
  router.add(verb::get, "/models", [&gw](http::Exchange& ex) -> http::awaitable<void> {
    co_await ex.respond_json(status::ok, models_body(*gw.cluster.snapshot()));
  });
  // What the dashboard's page needs before it can call anything: whether it must sign in, and
  // where the API (its playground's target) listens.
  router.add(verb::get, "/dashboard/config", [&gw](http::Exchange& ex) -> http::awaitable<void> {
    json::object o = json_field("auth", !gw.auth.keys->empty());
    o["api_port"] = gw.api_port;
    co_await ex.respond_json(status::ok, o);
  });
  router.add(verb::get, "/routing", [&gw](http::Exchange& ex) -> http::awaitable<void> {
    if (co_await refused_bad_counts(ex, "limit", "after")) co_return;
    co_await settle_workers(gw);
    co_await ex.respond_json(status::ok, routing_body(gw, ex.query()));
  });
}

}  // namespace hydra::api
