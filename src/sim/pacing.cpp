#include "sim/pacing.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <cstdio>
#include <cstdlib>

namespace hydra::sim {

void count_token_for_exit(const Node& node) {
  static uint64_t streamed = 0;
  const uint64_t limit = node.config().exit_after_tokens;
  if (limit == 0 || ++streamed < limit) return;
  std::fprintf(stderr, "hydra sim: exiting after %llu streamed tokens (--exit-after-tokens)\n",
               static_cast<unsigned long long>(streamed));
  std::fflush(stderr);
  std::_Exit(3);
}

http::awaitable<bool> pace_until(http::Exchange& ex, std::chrono::steady_clock::time_point when) {
  using namespace boost::asio::experimental::awaitable_operators;
  http::asio::steady_timer timer(co_await http::asio::this_coro::executor);
  timer.expires_at(when);
  auto which = co_await (timer.async_wait(http::use_nothrow) || ex.wait_closed());
  co_return which.index() == 0;
}

}  // namespace hydra::sim
