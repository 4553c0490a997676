#include "http/threads.hpp"

#include <algorithm>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <mutex>
#include <utility>

namespace hydra::http {

namespace {
thread_local int current_index = 0;
}

int thread_index() { return current_index; }
void set_thread_index(int index) { current_index = index; }

namespace detail {

ControlBatch& control_batch() {
  thread_local ControlBatch batch;
  return batch;
}

void schedule_flush(ControlBatch& batch) {
  if (batch.scheduled) return;
  batch.scheduled = true;
  // Runs after the handlers already queued on this loop: the rest of this turn.
  asio::post(batch.loop, [&batch] {
    batch.scheduled = false;
    flush_control_batch();
  });
}

}  // namespace detail

void set_thread_loop(asio::any_io_executor loop) { detail::control_batch().loop = std::move(loop); }

void flush_control_batch() {
  detail::ControlBatch& batch = detail::control_batch();
  if (batch.items.empty() || !batch.control) return;
  asio::post(batch.control, [items = std::move(batch.items)] {
    for (const auto& f : items) f();
  });
  batch.items = {};
}

struct Tails {
  uint64_t next = 0;
  std::vector<uint64_t> open;  // begun, not ended: a handful at most
  struct Waiter {
    uint64_t below;  // waits for the tails numbered below this
    asio::steady_timer* timer;
  };
  std::vector<Waiter> waiters;

  bool any_open_below(uint64_t seq) const {
    return std::any_of(open.begin(), open.end(), [seq](uint64_t s) { return s < seq; });
  }
};

namespace {
// Kept until exit, not with its thread: an exchange torn down after its loop's thread ended
// (the loops are destroyed after their threads, at shutdown) still ends its tail.
Tails& this_thread_tails() {
  thread_local Tails* mine = nullptr;
  if (!mine) {
    static std::mutex guard;
    static std::vector<std::unique_ptr<Tails>> all;
    std::lock_guard lock(guard);
    mine = all.emplace_back(std::make_unique<Tails>()).get();
  }
  return *mine;
}

constexpr uint64_t kEnded = UINT64_MAX;  // a tail's seq_ once it ended: it does not begin again
}  // namespace

ReplyTail::ReplyTail() : tails_(&this_thread_tails()) {}

void ReplyTail::begin() {
  if (open_ || seq_ == kEnded || &this_thread_tails() != tails_) return;
  open_ = true;
  seq_ = tails_->next++;
  tails_->open.push_back(seq_);
}

void ReplyTail::end() {
  if (!open_) {
    seq_ = kEnded;
    return;
  }
  open_ = false;
  Tails& t = *tails_;
  std::erase(t.open, std::exchange(seq_, kEnded));
  std::erase_if(t.waiters, [&t](const Tails::Waiter& w) {
    if (t.any_open_below(w.below)) return false;
    w.timer->cancel();
    return true;
  });
}

namespace {
// A waiter's timer, listed for end() to cancel while it lives (also when its coroutine is
// destroyed unfinished: a loop torn down at exit).
struct ListedTimer {
  Tails& tails;
  asio::steady_timer timer;
  ListedTimer(Tails& t, const asio::any_io_executor& executor, uint64_t below) : tails(t), timer(executor) {
    tails.waiters.push_back(Tails::Waiter{below, &timer});
  }
  ~ListedTimer() {
    std::erase_if(tails.waiters, [this](const Tails::Waiter& w) { return w.timer == &timer; });
  }
  ListedTimer(const ListedTimer&) = delete;
  ListedTimer& operator=(const ListedTimer&) = delete;
};
}  // namespace

awaitable<void> earlier_tails_ended(std::chrono::milliseconds limit) {
  Tails& t = this_thread_tails();
  const uint64_t below = t.next;
  if (!t.any_open_below(below)) co_return;
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  ListedTimer listed(t, executor, below);
  listed.timer.expires_after(limit);
  co_await listed.timer.async_wait(use_nothrow);
}

namespace {
// On a thread that serves connections: the replies out before now are accounted, and what they
// handed the control thread is on its way (it arrives before the caller resumes there).
awaitable<void> settle_here(std::chrono::milliseconds limit, const std::function<void()>* then) {
  co_await earlier_tails_ended(limit);
  if (then && *then) (*then)();
  flush_control_batch();
}
}  // namespace

awaitable<void> settle_threads(const std::vector<asio::any_io_executor>& workers, std::chrono::milliseconds limit,
                               std::function<void()> on_worker) {
  for (const auto& worker : workers)
    co_await asio::co_spawn(worker, settle_here(limit, &on_worker), asio::use_awaitable);
  co_await settle_here(limit, nullptr);  // the control thread's own: the caller runs there
}

}  // namespace hydra::http
