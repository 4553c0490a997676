#pragma once
// The upstream side: pooled keep-alive connections to nodes, and requests over them.
// Not thread-safe: one pool per io_context thread.
#include "http/types.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hydra::http {

struct Timeouts {
  std::chrono::milliseconds connect{2'000};
  std::chrono::milliseconds first_byte{300'000};  // a cold load can take minutes
  std::chrono::milliseconds idle{60'000};         // gap between chunks
  std::chrono::milliseconds total{1'800'000};     // a whole relayed request (timeouts.total_s); 0 = none
};

// One upstream connection with its read buffer; returned to the pool when reusable.
struct Connection {
  explicit Connection(asio::any_io_executor ex) : stream(std::move(ex)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool reused = false;  // came from the pool (a stale keep-alive may fail on first use)
};

class ConnectionPool {
public:
  explicit ConnectionPool(asio::any_io_executor ex, std::size_t max_idle_per_host = 64)
      : executor_(std::move(ex)), max_idle_(max_idle_per_host) {}

  // An idle pooled connection, or a new one (connect bounded by `connect_timeout`).
  awaitable<std::pair<error_code, std::unique_ptr<Connection>>> acquire(
      const tcp::endpoint& ep, std::chrono::milliseconds connect_timeout);
  // Gives a connection back for reuse; only call when the last response was read whole.
  void release(const tcp::endpoint& ep, std::unique_ptr<Connection> conn);
  // Drops idle connections to an endpoint (the node went away).
  void drop(const tcp::endpoint& ep);

private:
  asio::any_io_executor executor_;
  std::size_t max_idle_;
  std::map<tcp::endpoint, std::vector<std::unique_ptr<Connection>>> idle_;
};

// A whole small request/response (probes, fan-out queries). Body capped at 64 MiB.
// Everything is taken by value: a coroutine's views into its caller's data dangle when that
// data moves while the coroutine is suspended (the cluster's node list grows, say).
struct FetchResult {
  error_code ec;
  int status = 0;
  std::string body;
};
awaitable<FetchResult> fetch(ConnectionPool& pool, tcp::endpoint ep, std::string host, bhttp::verb method,
                             std::string target, std::string body, std::chrono::milliseconds timeout);

}  // namespace hydra::http
