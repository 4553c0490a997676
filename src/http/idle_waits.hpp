#pragma once
// Kept-alive connections waiting for their next request, on one io_context: a timer ticks while
// any waits and ends the waits that have lasted longer than their limit, by cancelling the read
// of the socket. A wait costs linking and unlinking a node; a timer per wait would cost a timer-
// queue insertion and removal and a cancelled completion per request. The limit is kept to
// within a quarter of itself (at most a second late).
#include "http/types.hpp"

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace hydra::http {

class IdleWaits;

// One connection's wait, in its session's frame. Begins in begin(), ends in end() or when
// destroyed; past its limit, the socket's read is cancelled (the session sees it end).
class IdleWait {
public:
  explicit IdleWait(tcp::socket& socket) : socket_(&socket) {}
  ~IdleWait() { end(); }
  IdleWait(const IdleWait&) = delete;
  IdleWait& operator=(const IdleWait&) = delete;

  void begin(IdleWaits& waits, std::chrono::milliseconds limit);
  void end();

private:
  friend class IdleWaits;
  tcp::socket* socket_;
  IdleWaits* waits_ = nullptr;  // while waiting
  std::size_t list_ = 0;        // which of its lists (one per limit)
  std::chrono::steady_clock::time_point due_{};
  IdleWait* prev_ = nullptr;
  IdleWait* next_ = nullptr;
};

class IdleWaits : public std::enable_shared_from_this<IdleWaits> {
public:
  explicit IdleWaits(const asio::any_io_executor& ex) : timer_(ex) {}
  // This io_context's (http/per_context.hpp): take it once per connection.
  static std::shared_ptr<IdleWaits> of(const asio::any_io_executor& ex);

private:
  friend class IdleWait;
  struct List {
    std::chrono::milliseconds limit;
    IdleWait* head = nullptr;  // newest
    IdleWait* tail = nullptr;  // oldest: due first
  };
  void add(IdleWait& w, std::chrono::milliseconds limit);
  void remove(IdleWait& w);
  void tick_later();
  void tick();

  asio::steady_timer timer_;
  std::vector<List> lists_;  // one per limit (a server has one; tests run several)
  std::size_t waiting_ = 0;
  bool ticking_ = false;
};

}  // namespace hydra::http
