// Hydra's POST /generate and /generate/stream: one prompt, routed like any request, answered
// with the text, the node, the routing decision and timings. Streamed as Server-Sent Events:
// `chunk` events, then one `done` event holding the whole result (or an `error` event).
#include "api/client_watch.hpp"
#include "api/collect_sink.hpp"
#include "api/dispatch.hpp"
#include "api/exchange_sink.hpp"
#include "api/generate_request.hpp"
#include "api/hints.hpp"
#include "api/hydra_api.hpp"
#include "api/model_caller.hpp"
#include "api/sse.hpp"

#include <boost/json/serialize.hpp>
#include <cmath>

namespace hydra::api {

namespace json = boost::json;
using http::awaitable;
using http::bhttp::status;

namespace {

// Collects the reply (bounded, see CollectSink); streamed, it also sends each piece as it comes.
// The client is watched throughout: a /generate that answers only at the end writes nothing
// until then, so a client that left is noticed by the watch, not by a failed write.
class GenerateSink final : public CollectSink {
public:
  GenerateSink(http::Exchange& ex, bool stream, ReplyLimits limits, const ClientWatch& watch)
      : CollectSink({}, limits, watch.signal()), ex_(ex), stream_(stream) {}
  bool began() const { return began_; }

protected:
  awaitable<bool> on_begin(const Served& served) override {
    if (requester_gone()) co_return true;
    if (!stream_) co_return false;
    began_ = true;
    co_return co_await begin_sse(ex_, &served);
  }
  awaitable<bool> on_text(std::string_view piece) override {
    if (!stream_) co_return false;
    co_return static_cast<bool>(co_await ex_.send_chunk(sse_event("chunk", json_field("response", std::string(piece)))));
  }
  awaitable<void> on_error(int code, std::string message, int retry_after_s, bool mid_stream) override {
    co_await CollectSink::on_error(code, message, retry_after_s, mid_stream);
    if (requester_gone()) co_return;
    if (began_) {
      co_await send_sse_error(ex_, code, message);
      co_return;
    }
    co_await reply_error(ex_, code, message, retry_after_s);
  }

private:
  http::Exchange& ex_;
  bool stream_;
  bool began_ = false;
};

// Milliseconds to the microsecond: readable JSON, no false precision.
double rounded(double v) { return std::round(v * 1000) / 1000; }

json::object timings(const CollectSink& sink, double total_ms) {
  const json::object& f = sink.final_chunk();
  auto number = [&](const char* key) -> double {
    const json::value* v = f.if_contains(key);
    return v && v->is_number() ? v->to_number<double>() : 0.0;
  };
  json::object t;
  t["total_ms"] = rounded(total_ms);
  t["first_token_ms"] = rounded(sink.first_piece_ms());
  t["load_ms"] = rounded(number("load_duration") / 1e6);
  t["prompt_eval_count"] = static_cast<int64_t>(number("prompt_eval_count"));
  t["eval_count"] = static_cast<int64_t>(number("eval_count"));
  double eval_s = number("eval_duration") / 1e9;
  t["tokens_per_second"] = rounded(eval_s > 0 ? number("eval_count") / eval_s : 0.0);
  return t;
}

json::object generate_result(const CollectSink& sink, const std::string& model, const GenerateRequest& request,
                             const Dispatched& d, const cluster::Snapshot& snapshot, double total_ms) {
  json::object out;
  out["response"] = sink.text();
  out["model"] = model;
  out["node_id"] = d.served ? d.served->node_id : "";
  out["node_url"] = d.served ? d.served->node_url : "";
  out["routing_decision"] = decision_json(d, request.route.node_id, snapshot);
  out["timings"] = timings(sink, total_ms);
  // From the response cache (a hit), not from a node now; "cache" says how (X-Hydra-Cache).
  out["cached"] = d.served && d.served->cache.starts_with("hit");
  if (d.served && !d.served->cache.empty()) out["cache"] = d.served->cache;
  if (d.served && !d.served->continued.empty()) {  // its node broke off and another went on
    json::array steps;
    for (const auto& c : d.served->continued)
      steps.push_back(json::object{{"from", c.from}, {"to", c.to}, {"after_tokens", c.after_tokens}});
    out["continued"] = std::move(steps);
  }
  const json::object& f = sink.final_chunk();
  if (const json::value* r = f.if_contains("done_reason")) out["done_reason"] = *r;
  if (const json::value* c = f.if_contains("context")) out["context"] = *c;
  return out;
}

awaitable<void> generate(Gateway& gw, http::Exchange& ex, bool force_stream) {
  const auto started = std::chrono::steady_clock::now();
  auto parsed = parse_generate_request(ex.body());
  if (auto* err = std::get_if<JsonError>(&parsed)) {
    co_await ex.respond_error(status::bad_request, err->message);
    co_return;
  }
  GenerateRequest& req = std::get<GenerateRequest>(parsed);
  if (force_stream) req.stream = true;
  std::string model = req.model.empty() ? default_model(gw, caller_of(ex)) : req.model;
  if (model.empty()) {
    co_await ex.respond_error(status::service_unavailable, "no model is available on any node");
    co_return;
  }
  DispatchRequest d;
  d.endpoint = force_stream ? "/generate/stream" : "/generate";
  d.caller = caller_of(ex);
  d.exchange = &ex;
  d.route = req.route;
  d.route.model = model;
  // X-Hydra-* headers work here as on every model endpoint; where both are given they win.
  if (std::string bad_hint = read_hint_headers(ex.request(), d.route); !bad_hint.empty()) {
    co_await ex.respond_error(status::bad_request, bad_hint);
    co_return;
  }
  d.upstream.target = "/api/generate";
  d.upstream.headers.set(http::bhttp::field::content_type, "application/json");
  d.upstream.body = ollama_generate_body(req, model);
  ClientWatch watch(ex, co_await http::asio::this_coro::executor);
  GenerateSink sink(ex, req.stream, gw.settings.limits, watch);
  auto work = dispatch(gw, sink, d);
  Dispatched done = co_await watch.run(std::move(work));
  if (!sink.complete() || sink.failed()) co_return;  // the sink has answered, or the client left
  double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  json::object result = generate_result(sink, model, req, done, *gw.cluster.snapshot(), total_ms);
  if (!req.stream) {
    http::Response res{status::ok, 11};
    res.set(http::bhttp::field::content_type, "application/json; charset=utf-8");
    if (done.served) set_served_headers(res.base(), *done.served);
    res.body() = json::serialize(result);
    co_await ex.respond(std::move(res));
    co_return;
  }
  ex.settle();  // before the last event goes out: its client may ask /stats at once
  co_await ex.send_chunk(sse_event("done", result));
  co_await ex.end_stream();
}

}  // namespace

void add_generate_routes(http::Router& router, Gateway& gw) {
  using http::bhttp::verb;
  router.add(verb::post, "/generate", [&gw](http::Exchange& ex) { return generate(gw, ex, false); });
  router.add(verb::post, "/generate/stream", [&gw](http::Exchange& ex) { return generate(gw, ex, true); });
}

}  // namespace hydra::api
