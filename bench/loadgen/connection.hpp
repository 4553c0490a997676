#pragma once
// One keep-alive client connection, owned by one load-generator worker: connects on demand
// (from a chosen source address when given), writes a prebuilt request, reads the reply with
// Beast's parser and hands every piece of body to a ChunkTimer as it arrives. No exceptions:
// every failure comes back as an Outcome.
#include "chunk_timer.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Outcome {
  std::string_view error;  // empty: a complete reply; else "connect", "write" or "read"
  unsigned status = 0;     // HTTP status of the reply, when its head arrived
};

class Connection {
 public:
  Connection(asio::any_io_executor ex, tcp::endpoint target, std::optional<asio::ip::address_v4> source);

  // Sends `request` and reads the whole reply; body pieces go to `timer` timed from `origin`.
  // `request` must outlive the call (the runner owns it for the whole run).
  asio::awaitable<Outcome> exchange(const std::string& request, ChunkTimer& timer, Clock::time_point origin);

  // Closes the socket: a pending exchange ends with an error (used for timeouts and at exit).
  void abort();

 private:
  asio::awaitable<bool> connect();

  tcp::socket socket_;
  tcp::endpoint target_;
  std::optional<asio::ip::address_v4> source_;
  boost::beast::flat_buffer buffer_;  // bytes read past one reply's parse stay for the next
  bool open_ = false;
};

}  // namespace loadgen
