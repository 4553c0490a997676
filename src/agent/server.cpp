#include "agent/server.hpp"

namespace hydra::agent {

using http::bhttp::status;
using http::bhttp::verb;

AgentServer::AgentServer(http::asio::any_io_executor executor, const ReadingStore& store) {
  router_.add({verb::get, verb::head}, "/", [](http::Exchange& ex) -> http::awaitable<void> {
    co_await ex.respond(status::ok, "Hydra agent is running", "text/plain; charset=utf-8");
  });
  router_.add(verb::get, "/hydra/agent", [&store](http::Exchange& ex) -> http::awaitable<void> {
    std::shared_ptr<const std::string> body = store.latest_body();
    if (!body) {
      co_await ex.respond_error(status::service_unavailable, "no reading yet");
      co_return;
    }
    std::string text = *body;
    co_await ex.respond(status::ok, std::move(text));
  });
  server_ = std::make_unique<http::Server>(std::move(executor), router_.handler());
}

AgentServer::~AgentServer() = default;

boost::system::result<http::tcp::endpoint> AgentServer::listen(const http::tcp::endpoint& endpoint) {
  return server_->listen(endpoint);
}

}  // namespace hydra::agent
