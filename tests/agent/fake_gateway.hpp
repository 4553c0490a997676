#pragma once
// A stand-in for the gateway's registration endpoints (issue 5 builds the real ones), run
// in-process on 127.0.0.1 with a free port. It records every request and answers:
//   POST /nodes/register        -> {"id": "node-N"} (or 500 while failures are scheduled)
//   POST /nodes/{id}/heartbeat  -> 200 for a known id, 404 for an unknown (forgotten) one
#include "http/router.hpp"
#include "http/server.hpp"
#include "support/http_client.hpp"
#include "support/run_on.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace hydra::test {

struct GatewayRequest {
  std::string kind;  // "register" or "heartbeat"
  std::string id;    // heartbeat: the id in the path
  std::string authorization;
  boost::json::value body;
  int answered = 0;  // status sent back
};

class FakeGateway {
public:
  FakeGateway() {
    using http::bhttp::verb;
    router_.add(verb::post, "/nodes/register", [this](http::Exchange& ex) -> http::awaitable<void> {
      GatewayRequest r = record(ex, "register", "");
      int status = 200;
      std::string reply;
      {
        std::lock_guard lock(mu_);
        if (failures_left_ > 0) {
          --failures_left_;
          status = 500;
          reply = "{\"error\":\"scheduled failure\"}";
        } else {
          std::string id = "node-" + std::to_string(++next_id_);
          known_.insert(id);
          reply = "{\"id\":\"" + id + "\"}";
        }
        r.answered = status;
        requests_.push_back(r);
      }
      co_await ex.respond(static_cast<http::bhttp::status>(status), std::move(reply));
    });
    router_.add_prefix(verb::post, "/nodes/", [this](http::Exchange& ex) -> http::awaitable<void> {
      std::string path(ex.path());
      std::string rest = path.substr(std::string("/nodes/").size());
      auto slash = rest.find('/');
      if (slash == std::string::npos || rest.substr(slash) != "/heartbeat") {
        co_await ex.respond_error(http::bhttp::status::not_found, "no such route");
        co_return;
      }
      GatewayRequest r = record(ex, "heartbeat", rest.substr(0, slash));
      int status = 0;
      {
        std::lock_guard lock(mu_);
        status = known_.count(r.id) ? 200 : 404;
        r.answered = status;
        requests_.push_back(r);
      }
      std::string reply = status == 200 ? "{\"ok\":true}" : "{\"error\":\"unknown node\"}";
      co_await ex.respond(static_cast<http::bhttp::status>(status), std::move(reply));
    });
    server_ = std::make_unique<http::Server>(ioc_.get_executor(), router_.handler());
    endpoint_ = server_->listen(http::tcp::endpoint(http::asio::ip::make_address("127.0.0.1"), 0)).value();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~FakeGateway() {
    ioc_.stop();
    thread_.join();
  }

  const Endpoint& endpoint() const { return endpoint_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(endpoint_.port()); }

  std::vector<GatewayRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::size_t count(const std::string& kind, int answered = 0) const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& r : requests_) n += r.kind == kind && (answered == 0 || r.answered == answered);
    return n;
  }
  // Like a restarted gateway: heartbeats for ids issued so far get 404 from now on.
  void forget_all() {
    std::lock_guard lock(mu_);
    known_.clear();
  }
  // Closes the listening socket (connections are refused) / opens it again on the same port.
  void pause() { on_io([this] { server_->stop_listening(); }); }
  void resume() { on_io([this] { (void)server_->listen(endpoint_); }); }
  void fail_next_registrations(int n) {
    std::lock_guard lock(mu_);
    failures_left_ = n;
  }

private:
  void on_io(std::function<void()> f) { (void)test::run_on(ioc_.get_executor(), std::move(f), std::chrono::hours(1)); }

  GatewayRequest record(http::Exchange& ex, std::string kind, std::string id) {
    GatewayRequest r;
    r.kind = std::move(kind);
    r.id = std::move(id);
    auto auth = ex.request().find(http::bhttp::field::authorization);
    if (auth != ex.request().end()) r.authorization = std::string(auth->value());
    boost::system::error_code ec;
    r.body = boost::json::parse(ex.body(), ec);
    return r;
  }

  boost::asio::io_context ioc_;
  // Keeps run() going while the listener is closed (pause), so that resume() can run.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{ioc_.get_executor()};
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  Endpoint endpoint_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<GatewayRequest> requests_;
  std::set<std::string> known_;
  int next_id_ = 0;
  int failures_left_ = 0;
};

}  // namespace hydra::test
