#include "api/lifecycle.hpp"

namespace hydra::api {

Lifecycle::Lifecycle(http::asio::any_io_executor executor) : stop_timer_(executor), idle_timer_(executor) {
  stop_timer_.expires_at(std::chrono::steady_clock::time_point::max());
}

void Lifecycle::stop() {
  stopping_ = true;
  draining_ = true;
  stop_timer_.expires_at(std::chrono::steady_clock::time_point::min());  // wakes the waiters
}

http::awaitable<void> Lifecycle::stopped() {
  if (stopping_) co_return;
  co_await stop_timer_.async_wait(http::use_nothrow);  // cancelled by stop(), or by the caller's race
}

Lifecycle::Guard::~Guard() {
  if (--l_->active_ == 0) l_->idle_timer_.cancel();
}

http::awaitable<void> Lifecycle::idle(std::chrono::steady_clock::time_point deadline) {
  if (active_ == 0) co_return;
  idle_timer_.expires_at(deadline);
  co_await idle_timer_.async_wait(http::use_nothrow);
}

}  // namespace hydra::api
