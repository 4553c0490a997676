// What watches the gateway live: GET /metrics (Prometheus text) and GET /events (the
// dashboard's Server-Sent Events), plus the once-a-second publisher of `nodes` and `traffic`.
#include "api/gateway.hpp"
#include "api/hydra_api.hpp"
#include "api/sse.hpp"
#include "common/json.hpp"

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
  g.rpc_servers = snapshot->rpc_servers.size();
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

json::object traffic_now(Gateway& gw) {
  telemetry::Traffic::Now now;
  now.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  now.queue_depth = gw.admission.waiting();
  for (const auto& n : gw.cluster.snapshot()->nodes) now.in_flight += n.live->in_flight.load(std::memory_order_relaxed);
  now.failovers = gw.telemetry.routing.totals().failovers;
  return gw.telemetry.traffic.summary(std::chrono::steady_clock::now(), now);
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
  for (const auto& e : gw.telemetry.routing.recent(50)) pipe.push("routing", telemetry::to_json(e));
  pipe.push("nodes", nodes_json(*gw.cluster.snapshot()));
  pipe.push("traffic", traffic_now(gw));
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
    if (gw.telemetry.events.subscribers() == 0) continue;
    gw.telemetry.events.publish("nodes", nodes_json(*gw.cluster.snapshot()));
    gw.telemetry.events.publish("traffic", traffic_now(gw));
  }
}

void add_all_routes(http::Router& router, Gateway& gw) {
  add_ollama_routes(router, gw);
  add_hydra_routes(router, gw);
  add_generate_routes(router, gw);
  add_status_routes(router, gw);
  add_openai_routes(router, gw);
  add_orchestrate_routes(router, gw);
  add_live_routes(router, gw);
}

void add_live_routes(http::Router& router, Gateway& gw) {
  using http::bhttp::verb;
  router.add(verb::get, "/metrics", [&gw](http::Exchange& ex) -> awaitable<void> {
    co_await ex.respond(status::ok, gw.telemetry.metrics.render(gauges(gw)), "text/plain; version=0.0.4; charset=utf-8");
  });
  router.add(verb::get, "/events", [&gw](http::Exchange& ex) { return events(gw, ex); });
}

}  // namespace hydra::api
