#pragma once
// Runs one awaitable to its end on a fresh io_context of the test's own thread (the tiers'
// calls hop to their own threads and come back here).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace hydra::test {

template <class T>
T run_awaitable(boost::asio::awaitable<T> a) {
  boost::asio::io_context ioc;
  auto f = boost::asio::co_spawn(ioc, std::move(a), boost::asio::use_future);
  ioc.run();
  return f.get();
}

}  // namespace hydra::test
