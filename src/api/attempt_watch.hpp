#pragma once
// What can end an attempt while its node works: the requester leaving, the gateway's shutdown
// grace ending, the request's total deadline, the node's silence (no first byte within
// timeouts.first_byte_ms, then no next piece within timeouts.idle_ms) and, until the node's
// reply begins, health checks ejecting the node. One watch per attempt: whichever comes first
// is noted and the node's socket closed, which ends whatever read of the reply is under way;
// the attempt's reads need no timer of their own. (Racing each read against every source with
// awaitable operators spawned a coroutine per source per phase: most of a small request's
// cost.) A sweeper per thread looks at the watches (attempt_watch.cpp); the requester is
// watched from 20 ms into the attempt.
#include "api/gateway.hpp"
#include "api/sink.hpp"

#include <chrono>
#include <memory>

namespace hydra::api {

// Why an attempt was cut short from outside the node's own reply.
enum class Cut { none, client_gone, stopping, total_timeout, node_down, first_byte_timeout, idle_timeout };

class AttemptWatch {
public:
  // Starts watching; `deadline` is the request's total deadline.
  AttemptWatch(Gateway& gw, ReplySink& sink, std::size_t node_index, std::chrono::steady_clock::time_point deadline,
               http::asio::any_io_executor executor);
  ~AttemptWatch();
  AttemptWatch(const AttemptWatch&) = delete;
  AttemptWatch& operator=(const AttemptWatch&) = delete;

  // The socket a cut closes: the node's connection of the current round (none: nothing to close).
  void aim(http::tcp::socket* socket);
  // Why the attempt was cut, or Cut::none.
  Cut cut() const;
  // The request went out: the node's reply must begin within `within`.
  void expect_reply(std::chrono::milliseconds within);
  // The node's reply began: its ejection no longer ends the attempt (the reply is relayed on).
  void replied();
  // The node's silence counts only while its reply is read (the requester's sink may take its
  // time in between): reading() before a read (the next piece must come within `idle`),
  // not_reading() after it.
  void reading(std::chrono::milliseconds idle);
  void not_reading();
  // Stops watching: true when that is all; false when the watch on the requester still runs,
  // and let_go() must be awaited: it waits until that watch has let go of the sink, which may
  // be gone once the attempt returns. Before the attempt returns (no frame in the common case):
  //   if (!watch.stop()) co_await watch.let_go();
  bool stop();
  http::awaitable<void> let_go();

private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace hydra::api
