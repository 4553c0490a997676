#include "api/lifecycle.hpp"

namespace hydra::api {

Lifecycle::Lifecycle(http::asio::any_io_executor control) : control_(control), idle_timer_(control) {}

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
