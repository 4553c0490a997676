#include "api/cache_semantic.hpp"

#include "api/dispatch.hpp"
#include "api/json_sink.hpp"
#include "common/json.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>

namespace hydra::api {

namespace json = boost::json;
using http::awaitable;

namespace {

// Reads the first vector of an /api/embed reply.
class EmbedSink : public JsonReplySink {
public:
  awaitable<void> gone() override {  // nobody leaves: the request that asked waits for it
    http::asio::steady_timer never(co_await http::asio::this_coro::executor, std::chrono::steady_clock::time_point::max());
    co_await never.async_wait(http::use_nothrow);
  }
  std::optional<std::vector<float>> vector;
  std::string error;

protected:
  awaitable<bool> on_object(const json::object& reply) override {
    const json::value* all = reply.if_contains("embeddings");
    if (!all || !all->is_array() || all->get_array().empty() || !all->get_array()[0].is_array()) co_return false;
    std::vector<float> v;
    for (const auto& x : all->get_array()[0].get_array()) {
      if (!x.is_number()) co_return false;
      v.push_back(static_cast<float>(x.to_number<double>()));
    }
    if (!v.empty()) vector = std::move(v);
    else error = "the reply held no vector";
    co_return false;
  }
  awaitable<void> on_end() override { co_return; }
  awaitable<void> on_error(int status, std::string message, int, bool) override {
    vector.reset();
    error = std::to_string(status) + ": " + message;
    co_return;
  }
};

std::string embed_body(const std::string& model, const std::string& text) {
  json::object o = json_field("model", model);
  o["input"] = text;
  return json::serialize(o);
}

}  // namespace

awaitable<Embedding> embed_question(Gateway& gw, std::string model, std::string text) {
  DispatchRequest d;
  d.endpoint = "cache.semantic";
  d.route.model = model;
  d.upstream.method = http::bhttp::verb::post;
  d.upstream.target = "/api/embed";
  d.upstream.headers.set(http::bhttp::field::content_type, "application/json");
  d.upstream.body = embed_body(model, text);
  EmbedSink sink;
  co_await dispatch(gw, sink, d);
  Embedding out;
  out.vector = std::move(sink.vector);
  if (!out.vector) out.error = sink.error.empty() ? "no embedding came back" : sink.error;
  co_return out;
}

}  // namespace hydra::api
