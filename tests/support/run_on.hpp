#pragma once
// Runs a function on an event loop another thread runs, and waits for it there.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>

namespace hydra::test {

// Posts `f` to `executor` and returns once it has run: true, or false after `limit`.
template <class F>
bool run_on(const boost::asio::any_io_executor& executor, F f,
            std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  auto ran = std::make_shared<std::promise<void>>();
  std::future<void> done = ran->get_future();
  boost::asio::post(executor, [ran, f = std::move(f)]() mutable {
    f();
    ran->set_value();
  });
  return done.wait_for(limit) == std::future_status::ready;
}

}  // namespace hydra::test
