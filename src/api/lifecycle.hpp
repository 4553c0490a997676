#pragma once
// The gateway's way out. On the first SIGTERM/SIGINT serve() stops accepting and calls drain():
// /health says "draining" (503) and requests in progress go on. When they are all done, or the
// grace period is over, stop() wakes every relay still running, which ends its reply with an
// error in its API's shape. Requests in progress are counted here (serve() wraps its routers'
// handlers with enter()). Single-threaded: the gateway's io_context thread.
#include "http/types.hpp"

#include <boost/asio/steady_timer.hpp>
#include <cstddef>

namespace hydra::api {

class Lifecycle {
public:
  explicit Lifecycle(http::asio::any_io_executor executor);

  bool draining() const { return draining_; }
  bool stopping() const { return stopping_; }
  void drain() { draining_ = true; }
  // The grace is over: every stopped() completes now and at once from here on.
  void stop();
  http::awaitable<void> stopped();

  // One request in progress while the guard lives.
  class Guard {
  public:
    explicit Guard(Lifecycle& l) : l_(&l) { ++l_->active_; }
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

  private:
    Lifecycle* l_;
  };
  Guard enter() { return Guard(*this); }
  std::size_t active() const { return active_; }
  // Completes when no request is in progress, or at `deadline`, whichever is first.
  http::awaitable<void> idle(std::chrono::steady_clock::time_point deadline);

private:
  http::asio::steady_timer stop_timer_;  // expires at "never" until stop()
  http::asio::steady_timer idle_timer_;  // cancelled when the last request ends
  std::size_t active_ = 0;
  bool draining_ = false;
  bool stopping_ = false;
};

}  // namespace hydra::api
