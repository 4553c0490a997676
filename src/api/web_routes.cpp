// The dashboard's static files (src/web/static, embedded at build time) on the dashboard port:
// whatever path the API does not know is looked up among them.
#include "api/gateway.hpp"
#include "web/assets.hpp"

namespace hydra::api {

namespace {

http::awaitable<void> serve_asset(http::Exchange& ex) {
  const auto method = ex.request().method();
  const web::Asset* asset = nullptr;
  if (method == http::bhttp::verb::get || method == http::bhttp::verb::head) asset = web::find_asset(ex.path());
  if (!asset) {
    co_await ex.respond(http::bhttp::status::not_found, "404 page not found", "text/plain; charset=utf-8");
    co_return;
  }
  http::Response res{http::bhttp::status::ok, 11};
  res.set(http::bhttp::field::content_type, asset->content_type);
  res.set(http::bhttp::field::cache_control, "no-cache");  // a new binary serves new pages at once
  res.body() = std::string(asset->body);
  co_await ex.respond(std::move(res));
}

}  // namespace

void add_web_routes(http::Router& router) {
  // Before the API's own "/" ("Ollama is running"): on this port "/" is the dashboard.
  router.add({http::bhttp::verb::get, http::bhttp::verb::head}, "/", serve_asset);
  router.fallback(serve_asset);
}

}  // namespace hydra::api
