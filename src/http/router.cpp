#include "http/router.hpp"

namespace hydra::http {

Router& Router::add(bhttp::verb method, std::string path, Handler handler) {
  routes_.push_back({method, std::move(path), false, std::move(handler)});
  return *this;
}

Router& Router::add(std::initializer_list<bhttp::verb> methods, std::string path, Handler handler) {
  for (auto m : methods) add(m, path, handler);
  return *this;
}

Router& Router::add_prefix(bhttp::verb method, std::string prefix, Handler handler) {
  routes_.push_back({method, std::move(prefix), true, std::move(handler)});
  return *this;
}

Router& Router::fallback(Handler handler) {
  fallback_ = std::move(handler);
  return *this;
}

Router& Router::wrong_method(Handler handler) {
  wrong_method_ = std::move(handler);
  return *this;
}

Router& Router::observe(Observer observer) {
  observer_ = std::move(observer);
  return *this;
}

Handler Router::handler() const {
  return [this](Exchange& ex) { return dispatch(ex); };
}

// The handler is awaited here, not in a coroutine of the match's own: one frame less per request.
awaitable<void> Router::dispatch(Exchange& ex) const {
  const auto started = std::chrono::steady_clock::now();
  std::string_view route;
  bool path_known = false;
  if (const Route* r = match(ex, route, path_known)) co_await r->handler(ex);
  else co_await unmatched(ex, path_known);
  if (observer_) observer_(route, ex, std::chrono::steady_clock::now() - started);
  ex.end_tail();
}

const Router::Route* Router::match(const Exchange& ex, std::string_view& path, bool& path_known) const {
  for (const auto& r : routes_) {
    bool match = r.prefix ? ex.path().starts_with(r.path) : ex.path() == r.path;
    if (!match) continue;
    path = r.path;
    path_known = true;
    if (r.method == ex.request().method()) return &r;
  }
  return nullptr;
}

awaitable<void> Router::unmatched(Exchange& ex, bool path_known) const {
  if (path_known && wrong_method_) {
    co_await wrong_method_(ex);
    co_return;
  }
  if (path_known) {
    co_await ex.respond(bhttp::status::method_not_allowed, "405 method not allowed", "text/plain; charset=utf-8");
    co_return;
  }
  if (fallback_) {
    co_await fallback_(ex);
    co_return;
  }
  co_await ex.respond(bhttp::status::not_found, "404 page not found", "text/plain; charset=utf-8");
}

}  // namespace hydra::http
