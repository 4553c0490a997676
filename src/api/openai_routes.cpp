// The OpenAI-compatible API: /v1/chat/completions, /v1/completions, /v1/embeddings,
// /v1/responses, /v1/models. Requests are translated to the nodes' Ollama API by api/openai
// (pure functions), sent through the same dispatch path as Ollama requests, and the replies
// translated back: one JSON object, or Server-Sent Events (ending `data: [DONE]`; Responses end
// with their response.completed event). Errors are in OpenAI's shape.
#include "api/shards.hpp"
#include "api/client_watch.hpp"
#include "api/dispatch.hpp"
#include "api/hints.hpp"
#include "api/openai/models.hpp"
#include "api/openai/response.hpp"
#include "api/openai/stream.hpp"
#include "common/percent.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>
#include <fmt/format.h>
#include <map>

namespace hydra::api {

namespace json = boost::json;
namespace bhttp = http::bhttp;
using http::awaitable;

namespace {

awaitable<void> respond_openai(http::Exchange& ex, int status, std::string body, int retry_after_s = 0) {
  http::Response res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "application/json");
  if (retry_after_s > 0) res.set(bhttp::field::retry_after, std::to_string(retry_after_s));
  res.body() = std::move(body);
  co_await ex.respond(std::move(res));
}

awaitable<void> respond_error(http::Exchange& ex, const openai::Error& e, int retry_after_s = 0) {
  co_await respond_openai(ex, e.status, openai::error_body(e), retry_after_s);
}

// Streams translated SSE when the client asked for a stream; otherwise keeps the node's body
// (up to limits.reply_mb) and translates it whole at the end. A stream's line past
// limits.line_kb, or any error event, ends the stream and drops the node. The client is
// watched throughout (a reply kept whole writes nothing until the end).
class OpenAiSink final : public ReplySink {
public:
  OpenAiSink(http::Exchange& ex, openai::ReplyContext ctx, bool stream, ReplyLimits limits, ClientWatch& watch)
      : ex_(ex), ctx_(ctx), translator_(std::move(ctx), limits.line_bytes), stream_(stream), limits_(limits),
        watch_(watch) {}

  awaitable<void> gone() override { co_await watch_.gone(); }

  awaitable<bool> begin(int status, std::string, std::optional<std::uint64_t>, const Served& served) override {
    if (watch_.left()) co_return true;
    status_ = status;
    served_ = served;
    if (!stream_ || status >= 300) co_return false;  // whole: translated at the end
    streaming_ = true;
    const ServedFields extra(served_, http::HeadField("Cache-Control", "no-cache"));
    co_return static_cast<bool>(co_await ex_.begin_stream(bhttp::status::ok, "text/event-stream", extra.view()));
  }
  awaitable<bool> data(std::string_view bytes) override {
    if (watch_.left()) co_return true;
    if (!streaming_) {
      if (body_.size() + bytes.size() > limits_.reply_bytes) {
        body_.clear();
        co_await respond_error(ex_, openai::make_error(502, reply_too_long(served_.node_id, limits_.reply_bytes)));
        co_return true;
      }
      body_.append(bytes);
      co_return false;
    }
    std::string events = translator_.feed(bytes);
    if (translator_.finished() || translator_.failed()) ex_.settle();  // the last events: settled before they go out
    if (!events.empty() && co_await ex_.send_chunk(events)) co_return true;
    if (!translator_.failed()) co_return false;
    co_await ex_.end_stream();  // an error event went out: nothing more comes from this node
    co_return true;
  }
  awaitable<void> end() override {
    if (!streaming_) {
      openai::HttpReply reply = openai::translate_reply(ctx_, status_, body_);
      http::Response res{static_cast<bhttp::status>(reply.status), 11};
      res.set(bhttp::field::content_type, "application/json");
      set_served_headers(res.base(), served_);
      res.body() = std::move(reply.body);
      co_await ex_.respond(std::move(res));
      co_return;
    }
    std::string last = translator_.finish();
    ex_.settle();
    co_await ex_.send_chunk(last);
    co_await ex_.end_stream();
  }
  awaitable<void> broke(std::string message) override { return cut_short(502, std::move(message)); }
  awaitable<void> cut_short(int status, std::string message) override {
    if (!streaming_) {
      co_await respond_error(ex_, openai::make_error(status, std::move(message)));
      co_return;
    }
    std::string last = translator_.fail(openai::make_error(status, std::move(message)));
    ex_.settle();
    co_await ex_.send_chunk(last);
    co_await ex_.end_stream();
  }
  awaitable<void> declined(int status, std::string, std::string body) override {
    co_await respond_error(ex_, openai::from_ollama_error(status, body));
  }
  awaitable<void> fail(int status, std::string message, int retry_after_s) override {
    co_await respond_error(ex_, openai::from_ollama_message(status, std::move(message)), retry_after_s);
  }

private:
  http::Exchange& ex_;
  openai::ReplyContext ctx_;
  openai::StreamTranslator translator_;
  bool stream_;
  ReplyLimits limits_;
  ClientWatch& watch_;
  bool streaming_ = false;
  int status_ = 0;
  Served served_;
  std::string body_;
};

awaitable<void> completion(Gateway& gw, http::Exchange& ex, openai::Kind kind) {
  auto parsed = openai::translate_request(kind, ex.body());
  if (auto* e = std::get_if<openai::Error>(&parsed)) {
    co_await respond_error(ex, *e);
    co_return;
  }
  openai::OllamaCall& call = std::get<openai::OllamaCall>(parsed);
  DispatchRequest d;
  d.endpoint = std::string(ex.path());
  d.caller = caller_of(ex);
  d.exchange = &ex;
  d.route.model = call.model;
  std::string bad_hint = read_hint_headers(ex.request(), d.route);
  if (!bad_hint.empty()) {
    co_await respond_error(ex, openai::invalid_request(bad_hint));
    co_return;
  }
  d.upstream.target = call.target;
  d.upstream.headers.set(bhttp::field::content_type, "application/json");
  d.upstream.body = json::serialize(call.body);
  ClientWatch watch(ex, co_await http::asio::this_coro::executor);
  OpenAiSink sink(ex, openai::reply_context(call), call.stream, gw.settings.limits, watch);
  auto work = dispatch(gw, sink, d);
  co_await watch.run(std::move(work));
}

// Every model some routable node has, as its /api/tags entry (first node's entry wins).
json::array fleet_tags(const Gateway& gw, const cluster::Snapshot& s) {
  std::map<std::string, const json::object*> by_name;
  for (const auto& n : s.nodes)
    if (n.routable())
      for (const auto& m : n.models) by_name.emplace(m.name, &m.raw);
  json::array tags;
  if (gw.shards)  // sharded models, while no coordinator runs too
    for (const auto& t : gw.shards->tags()) by_name.emplace(std::string(t.at("name").as_string()), &t.as_object());
  for (const auto& [name, raw] : by_name) {
    json::object tag = *raw;
    tag["name"] = name;
    tags.push_back(std::move(tag));
  }
  return tags;
}

// Model ids may carry '/' ("library/x:7b"), which clients send as %2F.
awaitable<void> one_model(Gateway& gw, http::Exchange& ex) {
  std::string id = percent_decode(ex.path().substr(std::string_view("/v1/models/").size()));
  auto found = openai::model_object(fleet_tags(gw, *gw.cluster.snapshot()), id);
  if (auto* e = std::get_if<openai::Error>(&found)) {
    co_await respond_error(ex, *e);
    co_return;
  }
  co_await respond_openai(ex, 200, json::serialize(std::get<json::object>(found)));
}

// Hydra keeps no responses, so none can be fetched, cancelled or deleted.
awaitable<void> no_stored_response(http::Exchange& ex) {
  std::string_view rest = ex.path().substr(std::string_view("/v1/responses/").size());
  std::string id = percent_decode(rest.substr(0, rest.find('/')));  // also .../{id}/cancel, /input_items
  co_await respond_error(ex, openai::make_error(404, fmt::format("Response with id '{}' not found: Hydra does not "
                                                                 "store responses (each request is stateless)",
                                                                 id),
                                                "response_id"));
}

// OpenAI's words for a path or method it does not serve under /v1/. Elsewhere an unknown path
// is Ollama's plain `404 page not found`, and a known path asked with another method a 405 in
// Ollama's error shape naming the methods it takes (`allowed`, also in the Allow field).
// (`allowed` by value: the coroutine runs after its caller's temporaries are gone.)
awaitable<void> miss(http::Exchange& ex, int status, std::string_view what, std::string_view plain,
                     std::string allowed = {}) {
  if (!ex.path().starts_with("/v1/")) {
    if (status == 405) {
      const std::string message = fmt::format("method {} is not allowed on {}: it takes {}",
                                              std::string_view(ex.request().method_string()), ex.path(), allowed);
      co_await ex.respond_error(bhttp::status::method_not_allowed, message);
      co_return;
    }
    co_await ex.respond(static_cast<bhttp::status>(status), std::string(plain), "text/plain; charset=utf-8");
    co_return;
  }
  auto e = openai::make_error(status, fmt::format("{} ({} {}){}", what, std::string_view(ex.request().method_string()),
                                                  ex.path(),
                                                  status == 404 ? ": Hydra serves /v1/chat/completions, /v1/completions, "
                                                                  "/v1/embeddings, /v1/responses and /v1/models"
                                                                : ""));
  co_await respond_error(ex, e);
}

}  // namespace

void add_api_misses(http::Router& router) {
  router.fallback([](http::Exchange& ex) { return miss(ex, 404, "Invalid URL", "404 page not found"); });
  router.wrong_method([&router](http::Exchange& ex) {
    return miss(ex, 405, "Invalid method for URL", "405 method not allowed", router.allowed(ex.path()));
  });
}

void add_openai_routes(http::Router& router, Gateway& gw) {
  using bhttp::verb;
  router.add(verb::post, "/v1/chat/completions", [&gw](http::Exchange& ex) { return completion(gw, ex, openai::Kind::chat); });
  router.add(verb::post, "/v1/completions", [&gw](http::Exchange& ex) { return completion(gw, ex, openai::Kind::completion); });
  router.add(verb::post, "/v1/embeddings", [&gw](http::Exchange& ex) { return completion(gw, ex, openai::Kind::embedding); });
  router.add(verb::post, "/v1/responses", [&gw](http::Exchange& ex) { return completion(gw, ex, openai::Kind::responses); });
  for (verb v : {verb::get, verb::delete_, verb::post}) router.add_prefix(v, "/v1/responses/", no_stored_response);
  router.add(verb::get, "/v1/models", [&gw](http::Exchange& ex) -> awaitable<void> {
    co_await respond_openai(ex, 200, json::serialize(openai::model_list(fleet_tags(gw, *gw.cluster.snapshot()))));
  });
  router.add_prefix(verb::get, "/v1/models/", [&gw](http::Exchange& ex) { return one_model(gw, ex); });
}

}  // namespace hydra::api
