#pragma once
// Single-flight: one question on its way to the fleet, and every identical request that came
// while it was being answered. The first request (the leader) records the node's reply here as
// it streams; the others (followers, on any thread) read the same pieces, those so far at once
// and the rest as they arrive, so the fleet is asked once. Pieces stay until the flight ends.
// Thread-safe: one mutex guards the record; a waiting follower is woken by a post to its own
// executor.
#include "http/types.hpp"
#include "memory/entry.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace hydra::memory {

// The reply's head as the leader's node sent it.
struct FlightHead {
  int status = 200;
  std::string content_type;
  bool streamed = false;
  std::string node_id, node_url, reason;
};

class Flight {
public:
  // The leader's side.
  void begin(FlightHead head);
  void data(std::string_view bytes);
  // The reply is over: `complete` when it ended well (a 2xx, whole or with its done line).
  void finish(bool complete);

  // What a follower reads: the head once there is one, the pieces from `from` on, and whether
  // the reply is over (and ended well).
  struct Read {
    std::optional<FlightHead> head;
    std::vector<std::string> pieces;
    bool ended = false;
    bool complete = false;
  };
  // Returns at once when there is something past `from` (or the end); else waits for it on
  // `executor`. Cancellable (the follower's client left): returns what there is then.
  http::awaitable<Read> next(std::size_t from, bool head_seen);
  // The whole reply, once finish(true) was called: for a follower that wants another shape.
  std::optional<Entry> record() const;

  // Requests reading this flight besides the leader; the leader's reply goes on while any does.
  void join();
  void leave();
  std::size_t followers() const;
  // Completes when no follower reads any more (at once when none does). Cancellable.
  http::awaitable<void> unfollowed();

private:
  static void wake(std::vector<std::shared_ptr<http::asio::steady_timer>>& timers);

  mutable std::mutex mutex_;
  std::optional<FlightHead> head_;
  std::vector<std::string> pieces_;
  bool ended_ = false, complete_ = false;
  std::size_t followers_ = 0;
  std::vector<std::shared_ptr<http::asio::steady_timer>> waiters_;
  std::vector<std::shared_ptr<http::asio::steady_timer>> leave_waiters_;
};

// The flights in the air, by cache key.
class Flights {
public:
  // The flight for `key`: a new one with `leader` true, or the one in the air (leader false).
  std::shared_ptr<Flight> lead_or_join(const std::string& key, bool& leader);
  // The leader's flight is over: later requests for `key` start their own (or hit the cache).
  void land(const std::string& key, const std::shared_ptr<Flight>& flight);
  std::size_t in_air() const;

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace hydra::memory
