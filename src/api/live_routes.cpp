// What watches the gateway live: GET /metrics (Prometheus text), GET /events (the dashboard's
// Server-Sent Events), the once-a-second tick that keeps the traffic history and publishes
// `nodes` and `traffic`, and what the dashboard remembers: GET /traffic (the last five minutes,
// second by second) and GET /requests (the recent requests, each with its routing decision).
#include "api/gateway.hpp"
#include "api/shards.hpp"
#include "api/shared_sync.hpp"
#include "memory/cache.hpp"
#include "api/threading.hpp"
#include "api/hydra_api.hpp"
#include "api/sse.hpp"
#include "common/json.hpp"
#include "common/model_name.hpp"
#include "common/query.hpp"

#include <boost/asio/steady_timer.hpp>

namespace hydra::api {

namespace json = boost::json;
using http::awaitable;
using http::bhttp::status;

namespace {

double uptime_s(const Gateway& gw) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - gw.started).count();
}

telemetry::GaugeSample gauges(const Gateway& gw) {
  auto snapshot = gw.cluster.snapshot();
  telemetry::GaugeSample g;
  g.queue_depth = gw.admission.waiting();
  for (const auto& r : snapshot->rpc_servers) {
    telemetry::RpcSample rs;
    rs.address = r.endpoint;
    rs.state = cluster::to_string(r.state);
    for (const auto& d : r.devices) {
      rs.free_bytes += d.free;
      rs.total_bytes += d.total;
    }
    rs.in_use = !r.in_use_by.empty();
    g.rpc_servers.push_back(std::move(rs));
  }
  g.prefix_sequences = gw.prefix_index.sequences();
  if (gw.shards) g.shards = gw.shards->samples();
  g.uptime_s = uptime_s(gw);
  for (const auto& n : snapshot->nodes) {
    if (n.removed) continue;
    telemetry::NodeSample s;
    s.id = n.id;
    s.source = cluster::to_string(n.source);
    s.up = n.routable();
    s.in_flight = n.live->in_flight.load(std::memory_order_relaxed);
    s.ejections = n.ejections;
    g.nodes.push_back(std::move(s));
  }
  g.keys = key_samples(gw);
  return g;
}

// One tick of the traffic window: its summary, kept in the five-minute history.
json::object traffic_tick(Gateway& gw) {
  telemetry::Traffic::Now now;
  now.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  now.queue_depth = gw.admission.waiting();
  const auto snapshot = gw.cluster.snapshot();  // held: a range-for would not keep it alive
  for (const auto& n : snapshot->nodes) now.in_flight += n.live->in_flight.load(std::memory_order_relaxed);
  now.failovers = gw.telemetry.routing.totals().failovers;
  now.prefix_requests = gw.telemetry.metrics.prefix_requests();
  now.prefix_hits = gw.telemetry.metrics.prefix_hits();
  now.prefix_tokens = gw.telemetry.metrics.prefix_tokens();
  if (gw.cache) {
    const memory::CacheCounts c = gw.cache->counts();
    now.cache_hits = c.hits[0] + c.hits[1] + c.hits[2];
  }
  return gw.telemetry.traffic.tick(std::chrono::steady_clock::now(), now);
}

constexpr std::size_t kHistorySeconds = 300;
constexpr std::size_t kRequestsOnConnect = 200;

json::array requests_json(const Gateway& gw, const telemetry::RequestFilter& filter) {
  json::array out;
  for (const auto* r : gw.telemetry.request_log.recent(filter)) out.push_back(telemetry::to_json(*r));
  return out;
}

// What a page gets when it connects: the charts' last five minutes and the recent requests
// (newest first), so that it does not start empty.
json::object history(const Gateway& gw) {
  json::object o = json_field("traffic", gw.telemetry.traffic.history(kHistorySeconds));
  telemetry::RequestFilter recent;
  recent.limit = kRequestsOnConnect;
  o["requests"] = requests_json(gw, recent);
  return o;
}

// ?model=&node=&outcome=&limit=&after= (all optional; a model is matched by its normalised name).
json::object requests_body(const Gateway& gw, std::string_view query) {
  telemetry::RequestFilter f;
  if (auto model = query_param(query, "model"); model && !model->empty()) f.model = normalize_model_name(*model);
  f.node = query_param(query, "node").value_or("");
  f.outcome = query_param(query, "outcome").value_or("");
  f.limit = std::min<uint64_t>(query_count(query, "limit", 100), 1000);
  f.after = query_count(query, "after", 0);
  return json_field("requests", requests_json(gw, f));
}

json::object hello(const Gateway& gw) {
  json::object o = json_field("version", gw.version);
  o["uptime_s"] = uptime_s(gw);
  return o;
}

awaitable<void> events(Gateway& gw, http::Exchange& ex) {
  if (co_await begin_sse(ex)) co_return;
  SsePipe pipe(co_await http::asio::this_coro::executor);
  pipe.push("hello", hello(gw));
  for (const auto& e : gw.telemetry.routing.recent(50)) pipe.push("routing", telemetry::to_json(*e));
  pipe.push("history", history(gw));
  pipe.push("nodes", fleet_json(gw, *gw.cluster.snapshot()));
  uint64_t id = gw.telemetry.events.subscribe([&pipe](std::string_view name, const json::object& data) { pipe.push(name, data); });
  co_await pipe.write_to(ex);  // until the page goes away (found at the next write: within a second)
  gw.telemetry.events.unsubscribe(id);
}

}  // namespace

awaitable<void> publish_live(Gateway& gw) {
  http::asio::steady_timer tick(co_await http::asio::this_coro::executor);
  for (;;) {
    tick.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await tick.async_wait(http::use_nothrow);
    if (ec) co_return;
    co_await settle_workers(gw);  // the workers' tallies in the window
    json::object traffic = traffic_tick(gw);  // kept whether or not anyone watches now
    if (gw.telemetry.events.subscribers() == 0) continue;
    gw.telemetry.events.publish("nodes", fleet_json(gw, *gw.cluster.snapshot()));
    gw.telemetry.events.publish("traffic", traffic);
  }
}

void add_all_routes(http::Router& router, Gateway& gw) {
  add_ollama_routes(router, gw);
  add_hydra_routes(router, gw);
  add_generate_routes(router, gw);
  add_status_routes(router, gw);
  add_cache_routes(router, gw);
  add_openai_routes(router, gw);
  add_orchestrate_routes(router, gw);
  add_live_routes(router, gw);
}

void add_live_routes(http::Router& router, Gateway& gw) {
  using http::bhttp::verb;
  router.add(verb::get, "/metrics", [&gw](http::Exchange& ex) -> awaitable<void> {
    co_await settle_workers(gw);
    std::string text = gw.telemetry.metrics.render(gauges(gw));
    if (gw.cache) text += memory::render_metrics(*gw.cache);
    if (gw.shared) text += gw.shared->metrics(gw.admission.refused_elsewhere());
    co_await ex.respond(status::ok, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  });
  router.add(verb::get, "/events", [&gw](http::Exchange& ex) { return events(gw, ex); });
  router.add(verb::get, "/traffic", [&gw](http::Exchange& ex) -> awaitable<void> {
    if (co_await refused_bad_counts(ex, "seconds")) co_return;
    const std::size_t seconds = std::min<uint64_t>(query_count(ex.query(), "seconds", kHistorySeconds), kHistorySeconds);
    co_await settle_workers(gw);
    co_await ex.respond_json(status::ok, json_field("seconds", gw.telemetry.traffic.history(seconds)));
  });
  router.add(verb::get, "/requests", [&gw](http::Exchange& ex) -> awaitable<void> {
    if (co_await refused_bad_counts(ex, "limit", "after")) co_return;
    co_await settle_workers(gw);
    co_await ex.respond_json(status::ok, requests_body(gw, ex.query()));
  });
}

}  // namespace hydra::api
