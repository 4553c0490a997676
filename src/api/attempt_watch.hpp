#pragma once
// What can end an attempt from outside while its node works: the requester leaving, the
// gateway's shutdown grace ending, the request's total deadline and, until the node's reply
// begins, health checks ejecting the node. One watch per attempt, armed once: each source
// completes a plain handler that notes why and closes the node's socket, which ends whatever
// read of the reply is under way. (Racing each read against every source with awaitable
// operators spawned a coroutine per source per phase: most of a small request's cost.) The
// deadline is watched from the start, the rest from 20 ms into the attempt (attempt_watch.cpp).
#include "api/gateway.hpp"
#include "api/sink.hpp"

#include <chrono>
#include <memory>

namespace hydra::api {

// Why an attempt was cut short from outside the node's own reply.
enum class Cut { none, client_gone, stopping, total_timeout, node_down };

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
  // The node's reply began: its ejection no longer ends the attempt (the reply is relayed on).
  void replied();
  // Stops watching. Waits until the watch on the requester has let go of the sink, which may
  // be gone once the attempt returns; call it before the attempt returns.
  http::awaitable<void> finish();

private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace hydra::api
