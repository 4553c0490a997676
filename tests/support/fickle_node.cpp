#include "support/fickle_node.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace hydra::test {

namespace {

http::ServerLimits limits_closing_after(std::chrono::milliseconds idle) {
  http::ServerLimits limits;
  limits.idle_timeout = idle;
  return limits;
}

}  // namespace

FickleNode::FickleNode(std::chrono::milliseconds idle_close)
    : node_([this](http::Exchange& ex) { return handle(ex); }, limits_closing_after(idle_close)) {}

int FickleNode::replied(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = replied_.find(path);
  return it == replied_.end() ? 0 : it->second;
}

std::string FickleNode::events() const {
  std::lock_guard lock(mu_);
  return fmt::format("{}", fmt::join(events_, "\n"));
}

std::size_t FickleNode::connections_seen() const {
  std::lock_guard lock(mu_);
  return ports_.size();
}

http::awaitable<void> FickleNode::handle(http::Exchange& ex) {
  using http::bhttp::status;
  bool again = false;
  const bool drop_now = drop_all;
  {
    std::lock_guard lock(mu_);
    again = !ports_.insert(ex.remote().port()).second;
    if (events_.size() < 1000)  // what a failed assertion prints
      events_.push_back(fmt::format("{:%T} port {} {} {}", std::chrono::system_clock::now(), ex.remote().port(),
                                    ex.path(), drop_now || (drop_reused && again) ? "dropped" : "answered"));
  }
  if (drop_now || (drop_reused && again)) {
    ++dropped_;
    ex.abort();
    co_return;
  }
  const std::string path(ex.path());
  if (path == "/api/chat" || path == "/api/generate") {
    ++arrivals_;
    boost::asio::steady_timer tick(co_await boost::asio::this_coro::executor);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (arrivals_ < hold && std::chrono::steady_clock::now() < until) {
      tick.expires_after(std::chrono::milliseconds(5));
      co_await tick.async_wait(http::use_nothrow);
    }
  }
  {
    std::lock_guard lock(mu_);
    ++replied_[path];
  }
  if (path == "/api/version") {
    co_await ex.respond(status::ok, R"({"version":"0.12.6"})", "application/json");
  } else if (path == "/api/tags") {
    co_await ex.respond(status::ok, R"({"models":[{"name":"m:1b","model":"m:1b","size":1000}]})", "application/json");
  } else if (path == "/api/ps") {
    co_await ex.respond(status::ok, R"({"models":[{"name":"m:1b","model":"m:1b","size":1000,"size_vram":1000}]})",
                        "application/json");
  } else if (path == "/api/chat") {
    co_await ex.respond(status::ok,
                        R"({"model":"m:1b","message":{"role":"assistant","content":"hello"},"done":true,"eval_count":1})",
                        "application/json");
  } else if (path == "/api/generate") {
    co_await ex.respond(status::ok, R"({"model":"m:1b","response":"hello","done":true,"eval_count":1})",
                        "application/json");
  } else {
    co_await ex.respond(status::not_found, R"({"error":"not found"})", "application/json");
  }
}

}  // namespace hydra::test
