#pragma once
// Server-Sent Events for Hydra's own API (/generate/stream, /orchestrate, later /events):
// `event: <name>\ndata: <json>\n\n`, sent as chunks of a streamed reply.
#include "api/sink.hpp"
#include "http/exchange.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <deque>

namespace hydra::api {

std::string sse_event(std::string_view name, const boost::json::object& data);

// Starts a text/event-stream reply (with the routing headers when `served` is given).
// True when the client is gone.
http::awaitable<bool> begin_sse(http::Exchange& ex, const Served* served = nullptr);

// An `error` event {"error": message, "status": status}, then the end of the stream.
http::awaitable<void> send_sse_error(http::Exchange& ex, int status, std::string message);

// Events produced by plain callbacks (the orchestrator, the event bus) and written to a client
// by one coroutine: a queue and a timer that wakes the writer. Single-threaded (the gateway's
// thread). Bounded: a client that falls `limit` events behind is cut off.
class SsePipe {
public:
  explicit SsePipe(http::asio::any_io_executor ex, std::size_t limit = 10'000) : wake_(std::move(ex)), limit_(limit) {}
  void push(std::string_view name, const boost::json::object& data);
  void close();  // the writer ends the stream once the queue is drained
  // Writes events as they come until close() (or the client leaves, or falls too far behind).
  // After the client left, later events are dropped but the producer may go on.
  http::awaitable<void> write_to(http::Exchange& ex);

private:
  std::deque<std::string> queue_;
  bool closed_ = false;
  bool overflowed_ = false;
  http::asio::steady_timer wake_;
  std::size_t limit_;
};

}  // namespace hydra::api
