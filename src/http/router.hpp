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
  // Answers a known path asked with another method (default: a plain-text 405).
  Router& wrong_method(Handler handler);
  // Told of every finished request with the route that took it ("/api/chat", "/api/blobs/",
  // "" for unknown paths), for request counts and access logs.
  using Observer = std::function<void(std::string_view route, const Exchange& ex, std::chrono::nanoseconds took)>;
  Router& observe(Observer observer);

  // The dispatching handler to give to a Server. The Router must outlive the Server.
  Handler handler() const;
  awaitable<void> dispatch(Exchange& ex) const;

private:
  struct Route {
    bhttp::verb method;
    std::string path;
    bool prefix;
    Handler handler;
  };
  awaitable<std::string_view> dispatch_to_route(Exchange& ex) const;  // the route that took it

  std::vector<Route> routes_;
  Handler fallback_;
  Handler wrong_method_;
  Observer observer_;
};

}  // namespace hydra::http
