#pragma once
// Async waiting primitives for one single-threaded io_context.
//  SlotGate: at most `parallel` holders, a FIFO of at most `max_queue` waiters, the rest refused.
//  Signal: wakes every waiter when something changed (a model was released, say).
#include "http/types.hpp"

#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>

namespace hydra::sim {

class SlotGate {
public:
  SlotGate(int parallel, int max_queue) : parallel_(parallel), max_queue_(max_queue) {}

  // True once a slot is held; false at once when the queue is full, or when the waiting
  // coroutine is cancelled (it then leaves the queue).
  http::awaitable<bool> acquire();
  void release();

  bool free() const { return active_ < parallel_; }  // acquire() would not wait
  int active() const { return active_; }
  int waiting() const { return static_cast<int>(waiters_.size()); }
  int max_active() const { return max_active_; }
  // The most requests ever at the gate at once, running or queued: what a gateway sent.
  int max_demand() const { return max_demand_; }

private:
  struct Waiter {
    explicit Waiter(http::asio::any_io_executor ex) : timer(ex) {}
    http::asio::steady_timer timer;
    bool granted = false;
  };
  int parallel_;
  int max_queue_;
  int active_ = 0;
  int max_active_ = 0;
  int max_demand_ = 0;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

// Whether the calling coroutine has been cancelled (the wait it was in was raced against its
// client leaving, and lost). Waits that check this set throw_if_cancelled(false) first.
http::awaitable<bool> cancelled();

class Signal {
public:
  // Completes at the next notify_all() (or after `limit`, whichever is first).
  http::awaitable<void> wait(std::chrono::milliseconds limit);
  void notify_all();

private:
  std::deque<std::shared_ptr<http::asio::steady_timer>> waiters_;
};

}  // namespace hydra::sim
