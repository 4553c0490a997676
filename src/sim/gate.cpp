#include "sim/gate.hpp"

#include <boost/asio/this_coro.hpp>

namespace hydra::sim {

http::awaitable<bool> SlotGate::acquire() {
  if (active_ < parallel_) {
    ++active_;
    max_active_ = std::max(max_active_, active_);
    max_demand_ = std::max(max_demand_, active_);
    co_return true;
  }
  if (static_cast<int>(waiters_.size()) >= max_queue_) co_return false;
  auto waiter = std::make_shared<Waiter>(co_await http::asio::this_coro::executor);
  waiter->timer.expires_at(http::asio::steady_timer::time_point::max());
  waiters_.push_back(waiter);
  max_demand_ = std::max(max_demand_, active_ + static_cast<int>(waiters_.size()));
  // A caller that gives up (its client left: the wait is raced against that) leaves the queue
  // instead of holding a place in it, as Ollama drops a queued request whose client is gone.
  co_await http::asio::this_coro::throw_if_cancelled(false);
  while (!waiter->granted) {
    co_await waiter->timer.async_wait(http::use_nothrow);
    if (waiter->granted) break;
    if (co_await cancelled()) {
      std::erase(waiters_, waiter);
      co_return false;
    }
  }
  co_return true;
}

void SlotGate::release() {
  if (!waiters_.empty()) {
    // Hand the slot straight to the oldest waiter: active_ stays the same.
    auto next = waiters_.front();
    waiters_.pop_front();
    next->granted = true;
    next->timer.cancel();
    return;
  }
  if (active_ > 0) --active_;
}

http::awaitable<bool> cancelled() {
  auto state = co_await http::asio::this_coro::cancellation_state;
  co_return state.cancelled() != http::asio::cancellation_type::none;
}

http::awaitable<void> Signal::wait(std::chrono::milliseconds limit) {
  auto timer = std::make_shared<http::asio::steady_timer>(co_await http::asio::this_coro::executor);
  timer->expires_after(limit);
  waiters_.push_back(timer);
  co_await timer->async_wait(http::use_nothrow);
  std::erase(waiters_, timer);
}

void Signal::notify_all() {
  for (auto& t : waiters_) t->cancel();
}

}  // namespace hydra::sim
