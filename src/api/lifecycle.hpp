#pragma once
// The gateway's way out. On the first SIGTERM/SIGINT serve() stops accepting and calls drain():
// /health says "draining" (503) and requests in progress go on. When they are all done, or the
// grace period is over, stop() sets stopping(), which each attempt's watch reads at its next
// sweep (api/attempt_watch.hpp): the relays still running end their replies with an error in
// their API's shape. Requests in progress are counted here (the API's guard, in api/access.cpp,
// holds a Guard for each). drain(), stop() and idle() run on the control thread; a Guard and
// the flags are safe on every thread (http/threads.hpp).
#include "http/threads.hpp"

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>

namespace hydra::api {

class Lifecycle {
public:
  explicit Lifecycle(http::asio::any_io_executor control);

  bool draining() const { return draining_.load(); }
  bool stopping() const { return stopping_.load(); }
  void drain() { draining_ = true; }
  // The grace is over: stopping() from here on.
  void stop() {
    stopping_ = true;
    draining_ = true;
  }

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
  std::size_t active() const { return active_.load(); }
  // Completes when no request is in progress, or at `deadline`, whichever is first.
  http::awaitable<void> idle(std::chrono::steady_clock::time_point deadline);

private:
  http::asio::any_io_executor control_;
  http::asio::steady_timer idle_timer_;  // control thread: cancelled when the last request ends
  std::atomic<std::size_t> active_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace hydra::api
