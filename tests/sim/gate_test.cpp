#include "sim/gate.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

using namespace hydra;

TEST(SlotGate, ParallelHoldersThenFifoQueueThenRefusal) {
  boost::asio::io_context ioc;
  sim::SlotGate gate(2, 1);
  std::vector<int> outcome(4, -1);  // 1 = got a slot, 0 = refused
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) {
    boost::asio::co_spawn(ioc, [&, i]() -> http::awaitable<void> {
      bool ok = co_await gate.acquire();
      outcome[i] = ok;
      if (ok) order.push_back(i);
    }, boost::asio::detached);
  }
  ioc.poll();  // the waiter parks; run() would wait for it forever
  EXPECT_EQ(outcome[0], 1);
  EXPECT_EQ(outcome[1], 1);
  EXPECT_EQ(outcome[2], -1);  // waiting
  EXPECT_EQ(outcome[3], 0);   // queue of one was full
  EXPECT_EQ(gate.active(), 2);
  EXPECT_EQ(gate.waiting(), 1);
  gate.release();  // hands the slot to the waiter
  ioc.restart();
  ioc.poll();
  EXPECT_EQ(outcome[2], 1);
  EXPECT_EQ(gate.active(), 2);
  EXPECT_EQ(gate.max_active(), 2);
  gate.release();
  gate.release();
  EXPECT_EQ(gate.active(), 0);
}

TEST(Signal, WakesAllWaiters) {
  boost::asio::io_context ioc;
  sim::Signal signal;
  int woken = 0;
  for (int i = 0; i < 3; ++i) {
    boost::asio::co_spawn(ioc, [&]() -> http::awaitable<void> {
      co_await signal.wait(std::chrono::hours(1));
      ++woken;
    }, boost::asio::detached);
  }
  ioc.poll();
  EXPECT_EQ(woken, 0);
  signal.notify_all();
  ioc.run_for(std::chrono::seconds(5));
  EXPECT_EQ(woken, 3);
}
