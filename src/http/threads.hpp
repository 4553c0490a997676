#pragma once
// The gateway's event-loop threads. Thread 0 is the control thread: it owns what must be
// single (the cluster's probes and publication, admission's queue, telemetry, the per-key
// limits' bookkeeping) and runs every handler that is not on the data path. Threads 1..N are
// workers (`threads` > 1): each has its own io_context, acceptor (SO_REUSEPORT) and upstream
// connection pool, and a model request lives on one worker from accept to its last byte.
// With `threads` = 1 the control thread serves connections too and nothing hops.
//
// A worker talks to the control thread by posting, never by locking: on_control() runs a
// function there and resumes the caller on its own thread; post_control() hands work over
// without waiting.
#include "http/types.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace hydra::http {

// This thread's index among the gateway's threads: 0 (control) unless a worker set it. Threads
// the gateway did not start (tests' in-process gateways) count as the control thread.
int thread_index();
void set_thread_index(int index);
inline bool on_control_thread() { return thread_index() == 0; }

// Runs `f` on the control thread (at once when already there) and returns its result on the
// caller's own thread. `f` may be a plain function or return an awaitable.
template <class F>
auto on_control(asio::any_io_executor control, F f) -> awaitable<std::invoke_result_t<F&>> {
  using R = std::invoke_result_t<F&>;
  if (on_control_thread()) co_return f();
  co_return co_await asio::co_spawn(
      control, [&f]() -> awaitable<R> { co_return f(); }, asio::use_awaitable);
}

template <class F>
auto on_control_co(asio::any_io_executor control, F f) -> std::invoke_result_t<F&> {
  if (on_control_thread()) co_return co_await f();
  co_return co_await asio::co_spawn(control, f(), asio::use_awaitable);
}

// A worker's own event loop, for batching what it hands to the control thread (below). Set by
// the thread that runs the loop, before it runs it.
void set_thread_loop(asio::any_io_executor loop);

namespace detail {
// What a worker has handed to the control thread during the current turn of its event loop:
// sent as one post when the turn ends (a post wakes the control thread: a system call and a
// context switch, the dearest part of a small request at two threads).
struct ControlBatch {
  asio::any_io_executor loop;     // the worker's own (set_thread_loop); none: post at once
  asio::any_io_executor control;  // where the batch goes
  std::vector<std::function<void()>> items;
  bool scheduled = false;  // a flush is queued on `loop`
};
ControlBatch& control_batch();  // this thread's
void schedule_flush(ControlBatch& batch);
}  // namespace detail

// Work for the control thread that the caller does not wait for: at once when already there;
// from a worker, with the rest of this turn of its event loop's hand-overs, in order.
template <class F>
void post_control(const asio::any_io_executor& control, F&& f) {
  if (on_control_thread()) {
    f();
    return;
  }
  detail::ControlBatch& batch = detail::control_batch();
  if (!batch.loop) {
    asio::post(control, std::forward<F>(f));
    return;
  }
  batch.control = control;
  batch.items.emplace_back(std::forward<F>(f));
  detail::schedule_flush(batch);
}

// Hands this thread's batch to the control thread now (settle_workers: before its answer).
void flush_control_batch();

// A reply whose last bytes may be out while what follows it on its thread (the request's
// accounting, its line in the request counters) is not yet in the control batch. The
// exchange begins one when its reply settles and ends it once the server finishes it, after the
// router's observer (Exchange::finish);
// settle_workers waits, on each thread, for those begun before it asked, so a client that
// reads /metrics right after its reply finds that reply counted. Made and ended on the
// connection's thread; a reply settled on another thread (a handler run on the control thread)
// is not tracked: its tail is the hop back.
class ReplyTail {
public:
  ReplyTail();
  ~ReplyTail() { end(); }
  ReplyTail(const ReplyTail&) = delete;
  ReplyTail& operator=(const ReplyTail&) = delete;
  void begin();  // once; a no-op off the connection's thread
  void end();

private:
  struct Tails* tails_;
  uint64_t seq_ = 0;
  bool open_ = false;
};

// Completes when every ReplyTail this thread began before the call has ended, or after `limit`.
awaitable<void> earlier_tails_ended(std::chrono::milliseconds limit);

// Completes once every thread that serves connections, each worker and then the control thread
// (which serves them too), has ended the reply tails it began before (each waited for at most
// `limit`), run `on_worker` (on each worker, then: what it recorded is complete) and handed its
// control batch over; a worker's batch then runs on the control thread before the caller
// resumes there. Called on the control thread, whose own replies it settles in place.
awaitable<void> settle_threads(const std::vector<asio::any_io_executor>& workers, std::chrono::milliseconds limit,
                               std::function<void()> on_worker = {});

}  // namespace hydra::http
