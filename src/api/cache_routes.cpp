// The response cache's views: DELETE /cache (purge, optionally ?model=), and its section of
// /stats and /health.
#include "api/gateway.hpp"
#include "common/json.hpp"
#include "common/model_name.hpp"
#include "common/query.hpp"
#include "memory/cache.hpp"

#include <algorithm>

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
  if (c.has_l3()) {
    json::object l3 = json_field("up", c.l3_up());
    l3["errors"] = c.l3_errors();
    l3["hits"] = n.hits[2];
    l3["misses"] = n.misses[2];
    tiers["l3"] = std::move(l3);
  }
  if (const memory::SemanticIndex* index = c.semantic()) {
    json::object sem = json_field("entries", index->size());
    sem["model"] = c.settings().semantic.model;
    sem["threshold"] = c.settings().semantic.threshold;
    sem["hits"] = n.semantic_hits;
    sem["misses"] = n.semantic_misses;
    tiers["semantic"] = std::move(sem);
  }
  o["tiers"] = std::move(tiers);
  o["hits"] = n.hits[0] + n.hits[1] + n.hits[2] + n.semantic_hits;
  o["bypass"] = n.bypass;
  o["coalesced"] = n.coalesced;
  o["stored"] = n.stored;
  return o;
}

void add_cache_routes(http::Router& router, Gateway& gw) {
  router.add(http::bhttp::verb::delete_, "/cache", [&gw](http::Exchange& ex) -> http::awaitable<void> {
    std::string model;
    if (auto m = query_param(ex.query(), "model")) {
      if (m->empty()) {
        co_await ex.respond_error(status::bad_request, "model= names no model (leave it out to purge everything)");
        co_return;
      }
      model = normalize_model_name(*m);
    }
    json::object o = json_field("purged", 0);
    if (gw.cache) {
      const auto n = co_await gw.cache->purge(model);
      // Each tier holds its own copy of an answer: "purged" is the most any one tier dropped.
      o["purged"] = *std::max_element(n.begin(), n.end());
      json::object tiers;
      tiers["l1"] = n[0];
      if (gw.cache->l2_stats()) tiers["l2"] = n[1];
      if (gw.cache->has_l3()) tiers["l3"] = n[2];
      o["tiers"] = std::move(tiers);
    }
    if (!model.empty()) o["model"] = model;
    co_await ex.respond_json(status::ok, o);
  });
}

}  // namespace hydra::api
