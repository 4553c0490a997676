#pragma once
// Writing to a connection without the asynchronous machinery when the socket can take the
// bytes at once (the common case: its send buffer has room). A plain TCP socket is offered them
// in one non-blocking sendmsg; only what it did not take goes through Asio's async_write, with
// the stream's timeout (an armed timer, a completion) as before. TLS streams always take the
// asynchronous path (their bytes are made by the TLS layer).
#include "http/stream.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <sys/uio.h>

namespace hydra::http {

// Sends what the socket takes now of `iov` (`count` entries, `total` bytes). True when all of
// it went out; `sent` says how much did; `ec` is set on a failure other than a full buffer.
bool send_iov_now(int fd, const iovec* iov, std::size_t count, std::size_t total, std::size_t& sent, error_code& ec);

// The same for a buffer sequence on `stream` (false, nothing sent, no error: a TLS stream, or
// more than 8 buffers).
template <class ConstBufferSequence>
bool send_now(Stream& stream, const ConstBufferSequence& buffers, std::size_t& sent, error_code& ec) {
  sent = 0;
  if (stream.is_tls()) return false;
  iovec iov[8];
  std::size_t count = 0, total = 0;
  for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
    const asio::const_buffer b(*it);
    if (b.size() == 0) continue;
    if (count == 8) return false;
    iov[count].iov_base = const_cast<void*>(b.data());
    iov[count].iov_len = b.size();
    total += b.size();
    ++count;
  }
  return send_iov_now(stream.socket().native_handle(), iov, count, total, sent, ec);
}

// A write in two steps, so that a hot path makes no coroutine when the socket takes all:
//   if (!write_now(stream, buffers, sent, ec)) ec = co_await write_rest(stream, buffers, sent, timeout);
// write_now: true when nothing is left to do (all sent, or `ec` set).
template <class ConstBufferSequence>
bool write_now(Stream& stream, const ConstBufferSequence& buffers, std::size_t& sent, error_code& ec) {
  return send_now(stream, buffers, sent, ec) || ec;
}

// What write_now left of `buffers` (which must stay valid until it returns), asynchronously,
// bounded by `timeout`.
template <class ConstBufferSequence>
awaitable<error_code> write_rest(Stream& stream, const ConstBufferSequence& buffers, std::size_t sent,
                                 std::chrono::milliseconds timeout) {
  beast::buffers_suffix<ConstBufferSequence> rest(buffers);
  rest.consume(sent);
  stream.expires_after(timeout);
  auto [wec, n] = co_await asio::async_write(stream, rest, use_nothrow);
  co_return wec;
}

}  // namespace hydra::http
