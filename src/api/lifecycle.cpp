#include "api/lifecycle.hpp"

namespace hydra::api {

namespace {
std::vector<http::asio::any_io_executor> or_control(http::asio::any_io_executor control,
                                                    std::vector<http::asio::any_io_executor> threads) {
  if (threads.empty()) threads.push_back(std::move(control));
  return threads;
}
}  // namespace

Lifecycle::Lifecycle(http::asio::any_io_executor control, std::vector<http::asio::any_io_executor> threads)
    : control_(control), stop_(or_control(control, std::move(threads))), idle_timer_(control) {}

void Lifecycle::stop() {
  stopping_ = true;
  draining_ = true;
  stop_.raise(0);  // wakes the waiters on every thread
}

http::awaitable<void> Lifecycle::stopped() {
  // A stop() on another thread after this check wakes this thread's waiters by a post, which
  // runs only once this coroutine is suspended in wait(): no wake-up is lost.
  if (stopping_) co_return;
  co_await stop_.wait(0);  // woken by stop(), or cancelled by the caller's race
}

Lifecycle::Guard::~Guard() {
  if (--l_->active_ == 0) {
    Lifecycle* l = l_;
    http::post_control(l->control_, [l] { l->idle_timer_.cancel(); });
  }
}

http::awaitable<void> Lifecycle::idle(std::chrono::steady_clock::time_point deadline) {
  if (active_ == 0) co_return;
  idle_timer_.expires_at(deadline);
  co_await idle_timer_.async_wait(http::use_nothrow);
}

}  // namespace hydra::api
