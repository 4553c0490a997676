// The response cache's views: DELETE /cache (purge, optionally ?model=), and its section of
// /stats and /health.
#include "api/gateway.hpp"
#include "common/json.hpp"
#include "common/model_name.hpp"
#include "common/query.hpp"
#include "memory/cache.hpp"

namespace hydra::api {

namespace json = boost::json;
using http::bhttp::status;

namespace {

json::object tier_json(const memory::TierStats& t) {
  json::object o;
  o["entries"] = t.entries;
  o["bytes"] = t.bytes;
  o["evictions"] = t.evictions;
  return o;
}

}  // namespace

json::object cache_json(const Gateway& gw) {
  if (!gw.cache) return json_field("enabled", false);
  const memory::Cache& c = *gw.cache;
  const memory::CacheCounts n = c.counts();
  json::object o = json_field("enabled", true);
  o["mode"] = memory::to_string(c.settings().mode);
  o["ttl_s"] = c.settings().ttl_s;
  json::object l1 = tier_json(c.l1_stats());
  l1["max_bytes"] = c.settings().l1_bytes;
  l1["hits"] = n.hits[0];
  l1["misses"] = n.misses[0];
  json::object tiers = json_field("l1", std::move(l1));
  if (auto l2s = c.l2_stats()) {
    json::object l2 = tier_json(*l2s);
    l2["max_bytes"] = c.settings().l2_bytes;
    l2["hits"] = n.hits[1];
    l2["misses"] = n.misses[1];
    tiers["l2"] = std::move(l2);
  }
  o["tiers"] = std::move(tiers);
  o["hits"] = n.hits[0] + n.hits[1];
  o["bypass"] = n.bypass;
  o["coalesced"] = n.coalesced;
  o["stored"] = n.stored;
  return o;
}

void add_cache_routes(http::Router& router, Gateway& gw) {
  router.add(http::bhttp::verb::delete_, "/cache", [&gw](http::Exchange& ex) -> http::awaitable<void> {
    if (!gw.cache) {
      co_await ex.respond_json(status::ok, json_field("purged", 0));
      co_return;
    }
    std::string model;
    if (auto m = query_param(ex.query(), "model")) model = normalize_model_name(*m);
    const std::size_t n = co_await gw.cache->purge(model);
    json::object o = json_field("purged", n);
    if (!model.empty()) o["model"] = model;
    co_await ex.respond_json(status::ok, o);
  });
}

}  // namespace hydra::api
