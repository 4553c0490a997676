#include "http/router.hpp"

#include <algorithm>

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
  std::string_view route;
  bool path_known = false;
  const Route* r = match(ex, route, path_known);
  if (observer_) ex.set_router(this, route, std::chrono::steady_clock::now());
  return r ? r->handler(ex) : unmatched(ex, path_known);
}

void Router::finished(std::string_view route, const Exchange& ex, std::chrono::nanoseconds took) const {
  observer_(route, ex, took);  // dispatch() names the router to the exchange only when it has one
}

namespace {
bool takes(std::string_view route, bool prefix, std::string_view path) {
  return prefix ? path.starts_with(route) : path == route;
}
}  // namespace

std::string Router::allowed(std::string_view path) const {
  std::string out;
  std::vector<bhttp::verb> listed;
  for (const auto& r : routes_) {
    if (!takes(r.path, r.prefix, path) || std::find(listed.begin(), listed.end(), r.method) != listed.end()) continue;
    listed.push_back(r.method);
    if (!out.empty()) out += ", ";
    out += bhttp::to_string(r.method);
  }
  return out;
}

std::string_view Router::route_of(std::string_view path) const {
  for (const auto& r : routes_)
    if (takes(r.path, r.prefix, path)) return r.path;
  return {};
}

const Router::Route* Router::match(const Exchange& ex, std::string_view& path, bool& path_known) const {
  for (const auto& r : routes_) {
    bool match = takes(r.path, r.prefix, ex.path());
    if (!match) continue;
    path = r.path;
    path_known = true;
    if (r.method == ex.request().method()) return &r;
  }
  return nullptr;
}

awaitable<void> Router::unmatched(Exchange& ex, bool path_known) const {
  if (path_known) ex.add_reply_header("Allow", allowed(ex.path()));
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
