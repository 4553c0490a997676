// The dashboard's static files (src/web, embedded at build time) on the dashboard port.
#include "api/gateway.hpp"

namespace hydra::api {

void add_web_routes(http::Router& router) {
  router.fallback([](http::Exchange& ex) -> http::awaitable<void> {
    co_await ex.respond(http::bhttp::status::not_found, "the dashboard's pages are not built yet",
                        "text/plain; charset=utf-8");
  });
}

}  // namespace hydra::api
