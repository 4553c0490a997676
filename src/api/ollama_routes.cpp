// The Ollama API on the gateway. Model endpoints are routed to one node and relayed;
// listing endpoints are answered from every node at once; management goes where the model is.
#include "api/fanout.hpp"
#include "api/gateway.hpp"
#include "api/hints.hpp"
#include "api/dispatch.hpp"
#include "api/exchange_sink.hpp"
#include "api/ollama_request.hpp"
#include "api/ollama_scan.hpp"
#include "api/shards.hpp"
#include "common/json.hpp"
#include "common/model_name.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <set>

namespace hydra::api {

namespace json = boost::json;
using http::bhttp::status;
using http::bhttp::verb;

namespace {

using ModelRequest = ModelBody;

// Reads the JSON body and its model name (`key`, else `alt`: "model" or legacy "name"; for
// copy, "source"). nullopt when the request is unusable, with the 400's message in `error`
// (the caller answers: no coroutine frame here for the request that is fine).
std::optional<ModelRequest> read_model_request(const http::Exchange& ex, const char* key, const char* alt,
                                               std::string& error) {
  auto parsed = parse_model_body(ex.body(), key, alt);
  if (auto* err = std::get_if<JsonError>(&parsed)) {
    error = std::move(err->message);
    return std::nullopt;
  }
  return std::move(std::get<ModelBody>(parsed));
}

RelayOptions relay_options(http::Exchange& ex, bool refresh_after) {
  RelayOptions o;
  o.upstream = upstream_of(ex);
  o.refresh_after = refresh_after;
  return o;
}

routing::RouteRequest route_request_for(const std::string& model) {
  routing::RouteRequest r;
  r.model = model;
  return r;
}

// What routed() goes by in the request, read in one pass over its text; a request that pass
// leaves to the tree (anything unusual: an error, a field given twice) is read into its tree,
// which answers an unusable one in its own words. False when it is unusable, with the 400's
// message in `error`. `texts`: its prompt's texts too (prefix affinity keys them).
bool read_ollama_facts(const http::Exchange& ex, bool texts, OllamaFacts& facts, std::optional<ModelRequest>& tree,
                       std::string& error) {
  if (scan_ollama_request(ex.body(), texts, facts)) return true;
  auto read = read_model_request(ex, "model", "name", error);
  if (!read) return false;
  tree.emplace(std::move(*read));
  const OllamaFields fields(tree->body);
  if (auto bad_number = check_ollama_numbers(fields)) {
    error = std::move(bad_number->message);
    return false;
  }
  facts = facts_of(fields, tree->model, texts);
  return true;
}

// generate, chat, embed, embeddings, show: to the best node that has the model.
http::awaitable<void> routed(Gateway& gw, http::Exchange& ex) {
  std::string unusable;
  OllamaFacts facts;
  std::optional<ModelRequest> tree;  // only when the pass left the request to it; the facts' views may point into it
  const bool prefixes = keys_prefixes(gw);
  if (!read_ollama_facts(ex, prefixes, facts, tree, unusable)) {
    co_await ex.respond_error(status::bad_request, unusable);
    co_return;
  }
  DispatchRequest request;
  request.endpoint = std::string(ex.path());
  request.caller = caller_of(ex);
  request.exchange = &ex;
  request.route = route_request_for(facts.model);
  std::string bad_hint = read_hint_headers(ex.request(), request.route);
  if (!bad_hint.empty()) {
    co_await ex.respond_error(status::bad_request, bad_hint);
    co_return;
  }
  request.upstream = upstream_of(ex);
  request.changes_residency = facts.changes_residency;
  request.names_sampling = facts.names_sampling;
  if (prefixes) {  // from the reading above: the body is not read again for it
    request.prefix = prefix_of(request.upstream.target, facts, request.upstream.body.size());
    request.prefix_read = true;
  }
  facts = OllamaFacts{};  // its fields are read: what it kept goes now, not at the end of a long reply
  tree.reset();
  ExchangeSink sink(ex, gw.settings.limits);
  co_await dispatch(gw, sink, request);
}

// create, push, copy, blobs: one node. Model-bound requests go where the model is; the rest to
// the first healthy node in configuration order, so a blob upload and the create that uses it
// meet on the same node.
http::awaitable<void> one_node(Gateway& gw, http::Exchange& ex, const char* model_key, const char* alt = nullptr) {
  auto snapshot = gw.cluster.snapshot();
  routing::Decision decision;
  if (model_key) {
    std::string unusable;
    auto req = read_model_request(ex, model_key, alt, unusable);
    if (!req) {
      co_await ex.respond_error(status::bad_request, unusable);
      co_return;
    }
    const routing::RouteRequest route_request = route_request_for(req->model);
    decision = co_await route_model(gw, route_request, snapshot);
    if (!decision.ok() && decision.error_status == 404 && std::string_view(model_key) == "model")
      decision = routing::route_any(*snapshot, gw.random);  // push of a name no node lists yet
  } else {
    decision = routing::route_any(*snapshot, gw.random);
    if (decision.ok()) std::sort(decision.ranked.begin(), decision.ranked.end());
    decision.reason = "per-node operation: sent to the first healthy node";
  }
  ExchangeSink sink(ex, gw.settings.limits);
  co_await relay(gw, sink, snapshot, decision, relay_options(ex, true));
}

std::vector<const cluster::NodeView*> routable_nodes(const cluster::Snapshot& s) {
  std::vector<const cluster::NodeView*> out;
  for (const auto& n : s.nodes)
    if (n.routable()) out.push_back(&n);
  return out;
}

json::object union_body(const std::vector<NodeReply>& replies, bool ps) {
  json::array models;
  std::set<std::string> seen;
  for (const auto& r : replies) {
    if (r.result.ec || r.result.status != 200) continue;
    boost::system::error_code ec;
    json::value doc = json::parse(r.result.body, ec);
    const json::object* o = ec ? nullptr : doc.if_object();
    const json::value* list = o ? o->if_contains("models") : nullptr;
    if (!list || !list->is_array()) continue;
    for (const auto& item : list->get_array()) {
      const json::object* m = item.if_object();
      const json::value* name = m ? m->if_contains("name") : nullptr;
      if (!name || !name->is_string()) continue;
      if (ps) {
        json::object entry = *m;
        entry["node"] = r.node->id;  // the same model may be resident on several nodes
        models.push_back(std::move(entry));
      } else if (seen.insert(std::string(name->get_string())).second) {
        models.push_back(*m);
      }
    }
  }
  return json_field("models", std::move(models));
}

// llama-server nodes have no /api/tags or /api/ps: their model, as the probes last read it
// (with "node_kind": "llama-server"), joins the union.
void add_llama_models(const cluster::Snapshot& s, bool ps, json::object& body) {
  json::array& models = body["models"].as_array();
  for (const auto& n : s.nodes) {
    if (!n.routable() || n.kind != cluster::NodeKind::llama_server) continue;
    if (ps) {
      for (const auto& m : n.resident) {
        json::object entry = m.raw;
        entry["node"] = n.id;
        models.push_back(std::move(entry));
      }
      continue;
    }
    for (const auto& m : n.models) {
      const bool listed = std::any_of(models.begin(), models.end(), [&](const json::value& v) {
        const auto* name = v.is_object() ? v.get_object().if_contains("name") : nullptr;
        return name && name->is_string() && name->get_string() == m.name;
      });
      if (!listed) models.push_back(m.raw);
    }
  }
}

// Sharded models are listed while no coordinator runs too (one starts on the first request).
void add_sharded(const json::array& tags, json::object& body) {
  json::array& models = body["models"].as_array();
  for (const auto& t : tags) {
    const auto& name = t.at("name");
    if (std::none_of(models.begin(), models.end(), [&](const json::value& m) { return m.is_object() && m.as_object().if_contains("name") && m.at("name") == name; }))
      models.push_back(t);
  }
}

http::awaitable<void> list_union(Gateway& gw, http::Exchange& ex, bool ps) {
  auto snapshot = gw.cluster.snapshot();
  std::string target = ps ? "/api/ps" : "/api/tags";
  std::vector<const cluster::NodeView*> ollama;
  for (const auto* n : routable_nodes(*snapshot))
    if (n->kind == cluster::NodeKind::ollama) ollama.push_back(n);
  auto replies = co_await fan_out(gw, ollama, verb::get, target, std::string(), gw.cluster.settings().probe_timeout);
  json::object body = union_body(replies, ps);
  add_llama_models(*snapshot, ps, body);
  if (!ps && gw.shards) add_sharded(gw.shards->tags(), body);
  co_await ex.respond_json(status::ok, body);
}

http::awaitable<void> remove(Gateway& gw, http::Exchange& ex) {
  std::string unusable;
  auto req = read_model_request(ex, "model", "name", unusable);
  if (!req) {
    co_await ex.respond_error(status::bad_request, unusable);
    co_return;
  }
  auto snapshot = gw.cluster.snapshot();
  const std::string name = normalize_model_name(req->model);
  std::vector<const cluster::NodeView*> holders;
  for (const auto* n : routable_nodes(*snapshot))
    if (n->model(name)) holders.push_back(n);
  auto replies = co_await fan_out(gw, holders, verb::delete_, "/api/delete", ex.body(),
                                  gw.settings.timeouts.first_byte);
  int deleted = 0;
  for (const auto& r : replies) {
    gw.cluster.request_refresh(r.node->index);
    deleted += !r.result.ec && r.result.status == 200;
  }
  if (deleted == 0) {
    co_await ex.respond_error(status::not_found, fmt::format("model '{}' not found", req->model));
    co_return;
  }
  co_await ex.respond(status::ok, "", "text/plain; charset=utf-8");
}

// X-Hydra-Pull: all -> every healthy node pulls (in parallel); one line per node ("pulled" or
// "failed": never "success", at which clients stop reading), then a final {"status":"success"}
// or an error naming the nodes that failed.
http::awaitable<void> pull_everywhere(Gateway& gw, http::Exchange& ex, ModelRequest req) {
  auto snapshot = gw.cluster.snapshot();
  auto nodes = routable_nodes(*snapshot);
  bool stream = !(req.body.contains("stream") && req.body.at("stream") == false);
  req.body["stream"] = false;
  auto replies = co_await fan_out(gw, nodes, verb::post, "/api/pull", json::serialize(req.body),
                                  std::chrono::hours(24));
  std::string lines, failed;
  for (const auto& r : replies) {
    gw.cluster.request_refresh(r.node->index);
    bool ok = !r.result.ec && r.result.status == 200;
    json::object line = json_field("status", ok ? "pulled" : "failed");
    line["node"] = r.node->id;
    if (!ok) failed += (failed.empty() ? "" : ", ") + r.node->id;
    lines += json::serialize(line) + "\n";
  }
  std::string final_line = failed.empty() || nodes.empty() ? json::serialize(json_field("status", "success"))
                                                           : json::serialize(json_field("error", "pull failed on " + failed));
  if (nodes.empty()) final_line = json::serialize(json_field("error", "no healthy Ollama node is available"));
  if (!stream) {
    status code = failed.empty() && !nodes.empty() ? status::ok : status::internal_server_error;
    co_await ex.respond(code, final_line);
    co_return;
  }
  if (co_await ex.begin_stream(status::ok, "application/x-ndjson")) co_return;
  ex.settle();
  co_await ex.send_chunk(lines + final_line + "\n");
  co_await ex.end_stream();
}

http::awaitable<void> pull(Gateway& gw, http::Exchange& ex) {
  std::string unusable;
  auto req = read_model_request(ex, "model", "name", unusable);
  if (!req) {
    co_await ex.respond_error(status::bad_request, unusable);
    co_return;
  }
  routing::RouteRequest hints;  // a pull goes to the least busy node; bad hints are still refused
  if (std::string bad_hint = read_hint_headers(ex.request(), hints); !bad_hint.empty()) {
    co_await ex.respond_error(status::bad_request, bad_hint);
    co_return;
  }
  if (ex.request()["X-Hydra-Pull"] == "all") {
    co_await pull_everywhere(gw, ex, std::move(*req));
    co_return;
  }
  auto snapshot = gw.cluster.snapshot();
  routing::Decision decision = routing::route_any(*snapshot, gw.random);
  ExchangeSink sink(ex, gw.settings.limits);
  co_await relay(gw, sink, snapshot, decision, relay_options(ex, true));
}

// The oldest version among healthy nodes: clients must not use features some node lacks.
http::awaitable<void> version(Gateway& gw, http::Exchange& ex) {
  auto snapshot = gw.cluster.snapshot();
  std::string lowest;
  for (const auto* n : routable_nodes(*snapshot))
    if (!n->version.empty() && (lowest.empty() || n->version < lowest)) lowest = n->version;
  if (lowest.empty()) lowest = gw.version;
  json::object o = json_field("version", lowest);
  o["hydra"] = gw.version;  // a gateway, not a node: scans (hydra discover, discovery) skip it
  co_await ex.respond_json(status::ok, o);
}

}  // namespace

void add_ollama_routes(http::Router& router, Gateway& gw) {
  router.add({verb::get, verb::head}, "/", [](http::Exchange& ex) -> http::awaitable<void> {
    co_await ex.respond(status::ok, "Ollama is running", "text/plain; charset=utf-8");
  });
  router.add({verb::get, verb::head}, "/api/version", [&gw](http::Exchange& ex) { return version(gw, ex); });
  for (const char* path : {"/api/generate", "/api/chat", "/api/embed", "/api/embeddings", "/api/show"})
    router.add(verb::post, path, [&gw](http::Exchange& ex) { return routed(gw, ex); });
  router.add({verb::get, verb::head}, "/api/tags", [&gw](http::Exchange& ex) { return list_union(gw, ex, false); });
  router.add({verb::get, verb::head}, "/api/ps", [&gw](http::Exchange& ex) { return list_union(gw, ex, true); });
  router.add(verb::delete_, "/api/delete", [&gw](http::Exchange& ex) { return remove(gw, ex); });
  router.add(verb::post, "/api/pull", [&gw](http::Exchange& ex) { return pull(gw, ex); });
  router.add(verb::post, "/api/copy", [&gw](http::Exchange& ex) { return one_node(gw, ex, "source"); });
  router.add(verb::post, "/api/push", [&gw](http::Exchange& ex) { return one_node(gw, ex, "model", "name"); });
  router.add(verb::post, "/api/create", [&gw](http::Exchange& ex) { return one_node(gw, ex, nullptr); });
  router.add_prefix(verb::post, "/api/blobs/", [&gw](http::Exchange& ex) { return one_node(gw, ex, nullptr); });
  router.add_prefix(verb::head, "/api/blobs/", [&gw](http::Exchange& ex) { return one_node(gw, ex, nullptr); });
}

}  // namespace hydra::api
