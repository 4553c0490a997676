#pragma once
// A one-way flag that wakes its waiters: a run cancelled because its client left, or "the
// client is gone" for a sink. A timer that never expires, cancelled to wake every wait().
// Single-threaded: set and waited on from one thread (the gateway's, or one run's strand).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hydra::orchestrate {

class Cancel {
public:
  explicit Cancel(boost::asio::any_io_executor ex)
      : timer_(std::move(ex), boost::asio::steady_timer::time_point::max()) {}
  Cancel(const Cancel&) = delete;
  Cancel& operator=(const Cancel&) = delete;

  void cancel() {
    if (cancelled_) return;
    cancelled_ = true;
    timer_.cancel();
  }
  bool cancelled() const { return cancelled_; }

  // Completes once cancel() was called, or when this wait is itself cancelled (it may lose a
  // race against other work: awaitable operators cancel it then).
  boost::asio::awaitable<void> wait() {
    if (cancelled_) co_return;
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

private:
  boost::asio::steady_timer timer_;
  bool cancelled_ = false;
};

}  // namespace hydra::orchestrate
