#pragma once
// Maps method + path to a Handler. Exact paths, or prefixes ending in '/' (for /api/blobs/...).
// A known path with the wrong method is 405; an unknown path goes to the fallback.
#include "http/server.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace hydra::http {

class Router {
public:
  Router& add(bhttp::verb method, std::string path, Handler handler);
  // Same handler for several methods (GET and HEAD on "/", say).
  Router& add(std::initializer_list<bhttp::verb> methods, std::string path, Handler handler);
  Router& add_prefix(bhttp::verb method, std::string prefix, Handler handler);
  Router& fallback(Handler handler);
  // Answers a known path asked with another method (default: a plain-text 405; either way the
  // reply has an Allow field).
  Router& wrong_method(Handler handler);
  // Told of every finished request with the route that took it ("/api/chat", "/api/blobs/",
  // "" for unknown paths), for request counts and access logs.
  using Observer = std::function<void(std::string_view route, const Exchange& ex, std::chrono::nanoseconds took)>;
  Router& observe(Observer observer);

  // The dispatching handler to give to a Server. The Router must outlive the Server.
  Handler handler() const;
  // The matched route's handler itself (no coroutine of the router's: one frame fewer per
  // request); the observer is told when the server finishes the exchange (Exchange::finish).
  awaitable<void> dispatch(Exchange& ex) const;
  // Exchange::finish() for a request this router took.
  void finished(std::string_view route, const Exchange& ex, std::chrono::nanoseconds took) const;
  // The methods the routes of `path` take ("GET, HEAD"), as a 405's Allow field lists them
  // (unmatched() sets it before the wrong-method handler runs); empty for an unknown path.
  std::string allowed(std::string_view path) const;
  // The route that takes `path` whatever the method, as the observer names it ("" when none):
  // for requests refused before the router saw them (413, 431, 408, 400).
  std::string_view route_of(std::string_view path) const;

private:
  struct Route {
    bhttp::verb method;
    std::string path;
    bool prefix;
    Handler handler;
  };
  // The route for the request's path and method, or null; `path` is set to the path of a route
  // that has the request's path, whatever its method (`path_known`).
  const Route* match(const Exchange& ex, std::string_view& path, bool& path_known) const;
  // A request no route takes: 405 (or wrong_method_) for a known path, else the fallback or 404.
  awaitable<void> unmatched(Exchange& ex, bool path_known) const;

  std::vector<Route> routes_;
  Handler fallback_;
  Handler wrong_method_;
  Observer observer_;
};

}  // namespace hydra::http
