// http/threads.hpp: on_control() runs work on the control thread and resumes the caller on its
// own; post_control() hands work over.
#include "http/threads.hpp"
#include "support/run_on.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <optional>
#include <gtest/gtest.h>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using hydra::http::awaitable;

namespace {

// A control thread (index 0) and one worker (index 1), each running its own io_context.
struct TwoThreads {
  asio::io_context control{1}, worker{1};
  asio::executor_work_guard<asio::io_context::executor_type> keep_control{control.get_executor()},
      keep_worker{worker.get_executor()};
  std::thread control_thread{[this] { control.run(); }};
  std::thread worker_thread{[this] {
    hydra::http::set_thread_index(1);
    worker.run();
  }};
  // Stops both threads; handlers still queued never run. A test calls it before anything its
  // handlers use goes away (a raise posts to the other thread, which may still be running it).
  void stop() {
    keep_control.reset();
    keep_worker.reset();
    control.stop();
    worker.stop();
    if (control_thread.joinable()) control_thread.join();
    if (worker_thread.joinable()) worker_thread.join();
  }
  ~TwoThreads() { stop(); }
};

}  // namespace

TEST(Threads, OnControlRunsThereAndResumesOnTheCallersThread) {
  TwoThreads t;
  std::promise<std::tuple<std::thread::id, std::thread::id, int>> seen;
  asio::co_spawn(
      t.worker,
      [&]() -> awaitable<void> {
        auto where = [] { return std::this_thread::get_id(); };
        std::thread::id ran_on = co_await hydra::http::on_control(t.control.get_executor(), where);
        seen.set_value({ran_on, std::this_thread::get_id(), hydra::http::thread_index()});
      },
      asio::detached);
  auto future = seen.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto [ran_on, resumed_on, index] = future.get();
  EXPECT_EQ(ran_on, t.control_thread.get_id());
  EXPECT_EQ(resumed_on, t.worker_thread.get_id());
  EXPECT_EQ(index, 1);
}

namespace {

// Waits for the reply tails this thread began before, then says so.
awaitable<void> settle_then_mark(std::chrono::milliseconds limit, bool* settled) {
  co_await hydra::http::earlier_tails_ended(limit);
  *settled = true;
}

}  // namespace

TEST(Threads, SettlingWaitsForTheRepliesThatEndedBeforeItAskedAndNoOthers) {
  asio::io_context io{1};
  hydra::http::ReplyTail a, b, later, elsewhere;
  a.begin();
  b.begin();
  std::thread([&elsewhere] { elsewhere.begin(); }).join();  // not this thread's: not tracked
  bool settled = false;
  asio::co_spawn(io, settle_then_mark(std::chrono::hours(1), &settled), asio::detached);
  io.poll();
  EXPECT_FALSE(settled);
  later.begin();  // after the question: not waited for
  a.end();
  io.poll();
  EXPECT_FALSE(settled);  // b is still open
  b.end();
  io.restart();
  io.poll();
  EXPECT_TRUE(settled);
  later.end();
}

TEST(Threads, SettlingGivesUpOnAReplyThatNeverEndsAfterItsLimit) {
  asio::io_context io{1};
  hydra::http::ReplyTail stuck;
  stuck.begin();
  bool settled = false;
  asio::co_spawn(io, settle_then_mark(std::chrono::milliseconds(1), &settled), asio::detached);
  io.run_for(std::chrono::seconds(30));  // returns when the waiter is done (nothing else runs)
  EXPECT_TRUE(settled);
}

TEST(Threads, AReplyTailThatEndedDoesNotBeginAgain) {
  asio::io_context io{1};
  hydra::http::ReplyTail tail;
  tail.begin();
  tail.end();
  tail.begin();  // a settle after the router let go: not waited for
  bool settled = false;
  asio::co_spawn(io, settle_then_mark(std::chrono::hours(1), &settled), asio::detached);
  io.poll();
  EXPECT_TRUE(settled);
}

// The control thread serves connections too: a reply it sent whose tail is still open is waited
// for as a worker's is (a /stats right after a reply counts it, whichever thread served it).
TEST(Threads, SettlingWaitsForTheControlThreadsRepliesAsForTheWorkers) {
  TwoThreads t;
  const asio::any_io_executor control = t.control.get_executor(), worker = t.worker.get_executor();
  std::optional<hydra::http::ReplyTail> on_control, on_worker;
  ASSERT_TRUE(hydra::test::run_on(control, [&] { on_control.emplace().begin(); }));
  ASSERT_TRUE(hydra::test::run_on(worker, [&] { on_worker.emplace().begin(); }));
  std::atomic<bool> settled{false};
  const std::vector<asio::any_io_executor> workers{worker};
  asio::co_spawn(
      control,
      [&]() -> awaitable<void> {
        co_await hydra::http::settle_threads(workers, std::chrono::hours(1));
        settled = true;
      },
      asio::detached);
  // The worker's reply ends; each thread then takes a few turns (the worker's settling resumes
  // and hands its completion to the control thread, which goes on to its own replies).
  ASSERT_TRUE(hydra::test::run_on(worker, [&] { on_worker.reset(); }));
  for (int turn = 0; turn < 3; ++turn) {
    ASSERT_TRUE(hydra::test::run_on(worker, [] {}));
    ASSERT_TRUE(hydra::test::run_on(control, [] {}));
  }
  EXPECT_FALSE(settled) << "settled with a reply of the control thread still open";
  ASSERT_TRUE(hydra::test::run_on(control, [&] { on_control.reset(); }));
  for (int turn = 0; turn < 500 && !settled; ++turn) ASSERT_TRUE(hydra::test::run_on(control, [] {}));
  EXPECT_TRUE(settled);
  t.stop();
}
