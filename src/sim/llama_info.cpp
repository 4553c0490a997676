// The llama-server sim's read-only endpoints: /health, /props, /slots, /v1/models, the
// loading gate in front of everything, and 404 for the rest (the Ollama API included).
#include "sim/node.hpp"

#include <chrono>

namespace hydra::sim {

using http::bhttp::status;
using http::bhttp::verb;

namespace {

void count(Node& node, const http::Exchange& ex) { ++node.stats().by_path[std::string(ex.path())]; }

http::awaitable<void> respond_llama(http::Exchange& ex, int code, std::string_view message, std::string_view type) {
  const boost::json::value body = llama_error(code, message, type);
  co_await ex.respond_json(static_cast<status>(code), body);
}

http::awaitable<void> health(Node& node, http::Exchange& ex) {
  count(node, ex);
  boost::json::object ok;
  ok["status"] = "ok";
  co_await ex.respond_json(status::ok, ok);
}

http::awaitable<void> props(Node& node, http::Exchange& ex) {
  count(node, ex);
  const boost::json::value body = props_body(*node.llama());
  co_await ex.respond_json(status::ok, body);
}

http::awaitable<void> slots(Node& node, http::Exchange& ex) {
  count(node, ex);
  if (node.config().no_slots) {
    co_await respond_llama(ex, 501, "This server does not support slots endpoint.", "not_supported_error");
    co_return;
  }
  const LlamaModel& model = *node.llama();
  if (ex.query().find("fail_on_no_slot=1") != std::string_view::npos) {
    bool idle = false;
    for (const auto& s : model.slots) idle = idle || !s.processing;
    if (!idle) {
      co_await respond_llama(ex, 503, "no slot available", "unavailable_error");
      co_return;
    }
  }
  const boost::json::value body = slots_body(model);
  co_await ex.respond_json(status::ok, body);
}

http::awaitable<void> models(Node& node, http::Exchange& ex) {
  count(node, ex);
  const auto created = std::chrono::duration_cast<std::chrono::seconds>(node.clock().wall().time_since_epoch());
  const boost::json::value body = models_body(*node.llama(), created.count());
  co_await ex.respond_json(status::ok, body);
}

http::awaitable<void> not_found(Node& node, http::Exchange& ex) {
  count(node, ex);
  co_await respond_llama(ex, 404, "File Not Found", "not_found_error");
}

}  // namespace

http::awaitable<bool> llama_ready(Node& node, http::Exchange& ex) {
  if (!node.llama()->loading(node.clock().now())) co_return true;
  count(node, ex);
  co_await respond_llama(ex, 503, "Loading model", "unavailable_error");
  co_return false;
}

void add_llama_info_routes(http::Router& router, Node& node) {
  router.add(verb::get, "/health", [&node](http::Exchange& ex) { return health(node, ex); });
  router.add(verb::get, "/v1/health", [&node](http::Exchange& ex) { return health(node, ex); });
  router.add(verb::get, "/props", [&node](http::Exchange& ex) { return props(node, ex); });
  router.add(verb::get, "/slots", [&node](http::Exchange& ex) { return slots(node, ex); });
  router.add(verb::get, "/models", [&node](http::Exchange& ex) { return models(node, ex); });
  router.add(verb::get, "/v1/models", [&node](http::Exchange& ex) { return models(node, ex); });
  // cpp-httplib answers an unknown path, and a known one asked with another method, with 404.
  router.fallback([&node](http::Exchange& ex) { return not_found(node, ex); });
  router.wrong_method([&node](http::Exchange& ex) { return not_found(node, ex); });
}

}  // namespace hydra::sim
