#include "connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <netinet/in.h>

namespace loadgen {

namespace bhttp = boost::beast::http;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// Bind the source address but let connect() pick the port: with IP_BIND_ADDRESS_NO_PORT the
// port is chosen per destination, so 10,000 connections do not exhaust bind()'s port range.
#ifdef IP_BIND_ADDRESS_NO_PORT
using bind_no_port = asio::detail::socket_option::boolean<IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT>;
#endif

}  // namespace

Connection::Connection(asio::any_io_executor ex, tcp::endpoint target, std::optional<asio::ip::address_v4> source)
    : socket_(ex), target_(target), source_(source) {}

void Connection::abort() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  open_ = false;
}

asio::awaitable<bool> Connection::connect() {
  boost::system::error_code ec;
  socket_.close(ec);
  buffer_.clear();
  socket_.open(target_.protocol(), ec);
  if (ec) co_return false;
  if (source_) {
#ifdef IP_BIND_ADDRESS_NO_PORT
    socket_.set_option(bind_no_port(true), ec);
#endif
    socket_.bind(tcp::endpoint(*source_, 0), ec);
    if (ec) co_return false;
  }
  auto [cec] = co_await socket_.async_connect(target_, nothrow);
  if (cec) co_return false;
  // Requests are single small writes; Nagle would only add delay.
  socket_.set_option(tcp::no_delay(true), ec);
  open_ = true;
  co_return true;
}

asio::awaitable<Outcome> Connection::exchange(const std::string& request, ChunkTimer& timer, Clock::time_point origin) {
  Outcome out;
  if (!open_ && !co_await connect()) {
    out.error = "connect";
    co_return out;
  }
  auto [wec, written] = co_await asio::async_write(socket_, asio::buffer(request), nothrow);
  if (wec) {
    abort();
    out.error = "write";
    co_return out;
  }
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);  // a benchmark reads whatever the server sends
  auto [hec, head_bytes] = co_await bhttp::async_read_header(socket_, buffer_, parser, nothrow);
  if (hec) {
    abort();
    // A malformed head is the server's fault as much as a reset: both are "read" failures.
    out.error = "read";
    co_return out;
  }
  out.status = parser.get().result_int();
  // The body in bounded pieces: read_some returns after each socket read, which is what lets
  // each NDJSON line be timed when it arrives rather than when the reply ends.
  char piece[16384];
  while (!parser.is_done()) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    auto [rec, n] = co_await bhttp::async_read_some(socket_, buffer_, parser, nothrow);
    if (rec == bhttp::error::need_buffer) rec = {};
    std::size_t got = sizeof piece - parser.get().body().size;
    if (got > 0) timer.feed(std::string_view(piece, got), Clock::now() - origin);
    if (rec) {
      abort();
      out.error = "read";
      co_return out;
    }
  }
  timer.finish(Clock::now() - origin);
  if (!parser.keep_alive()) abort();
  co_return out;
}

}  // namespace loadgen
