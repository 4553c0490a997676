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

awaitable<void> Router::dispatch(Exchange& ex) const {
  const auto started = std::chrono::steady_clock::now();
  std::string_view route = co_await dispatch_to_route(ex);
  if (observer_) observer_(route, ex, std::chrono::steady_clock::now() - started);
  ex.end_tail();
}

awaitable<std::string_view> Router::dispatch_to_route(Exchange& ex) const {
  bool path_known = false;
  std::string_view known;
  for (const auto& r : routes_) {
    bool match = r.prefix ? ex.path().starts_with(r.path) : ex.path() == r.path;
    if (!match) continue;
    path_known = true;
    known = r.path;
    if (r.method == ex.request().method()) {
      co_await r.handler(ex);
      co_return std::string_view(r.path);
    }
  }
  if (path_known && wrong_method_) {
    co_await wrong_method_(ex);
    co_return known;
  }
  if (path_known) {
    co_await ex.respond(bhttp::status::method_not_allowed, "405 method not allowed",
                        "text/plain; charset=utf-8");
    co_return known;
  }
  if (fallback_) {
    co_await fallback_(ex);
    co_return std::string_view();
  }
  co_await ex.respond(bhttp::status::not_found, "404 page not found", "text/plain; charset=utf-8");
  co_return std::string_view();
}

}  // namespace hydra::http
