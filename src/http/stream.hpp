#pragma once
// One connection's byte stream, plain TCP or TLS over TCP, behind one type: Beast's
// AsyncReadStream/AsyncWriteStream, so the HTTP code is the same either way. The variant is
// chosen when the connection is made; a plain stream costs no allocation and one branch per
// operation. `lowest()` is the TCP layer (timeouts, the socket); TLS handshakes and shutdowns
// go through `tls()`.
#include "http/types.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <utility>
#include <variant>

namespace hydra::http {

namespace ssl = asio::ssl;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

class Stream {
public:
  using executor_type = beast::tcp_stream::executor_type;

  // Plain TCP.
  explicit Stream(beast::tcp_stream plain) : v_(std::in_place_index<0>, std::move(plain)) {}
  explicit Stream(asio::any_io_executor ex) : v_(std::in_place_index<0>, std::move(ex)) {}
  // TLS over `plain` (connected or not); no handshake yet. The stream keeps `context` alive.
  Stream(beast::tcp_stream plain, std::shared_ptr<ssl::context> context)
      : v_(std::in_place_index<1>, std::move(plain), *context), context_(std::move(context)) {}

  Stream(Stream&&) = default;
  Stream& operator=(Stream&&) = default;

  executor_type get_executor() noexcept { return lowest().get_executor(); }
  beast::tcp_stream& lowest() noexcept {
    if (auto* p = std::get_if<0>(&v_)) return *p;
    return beast::get_lowest_layer(std::get<1>(v_));
  }
  tcp::socket& socket() noexcept { return lowest().socket(); }
  template <class Duration>
  void expires_after(Duration d) { lowest().expires_after(d); }
  void expires_never() { lowest().expires_never(); }
  void close() { lowest().close(); }

  bool is_tls() const noexcept { return v_.index() == 1; }
  TlsStream* tls() noexcept { return std::get_if<1>(&v_); }

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return asio::async_initiate<ReadToken, void(error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& b) {
          if (auto* p = std::get_if<0>(&v_)) p->async_read_some(b, std::move(handler));
          else std::get<1>(v_).async_read_some(b, std::move(handler));
        },
        token, buffers);
  }

  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return asio::async_initiate<WriteToken, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& b) {
          if (auto* p = std::get_if<0>(&v_)) p->async_write_some(b, std::move(handler));
          else std::get<1>(v_).async_write_some(b, std::move(handler));
        },
        token, buffers);
  }

private:
  std::variant<beast::tcp_stream, TlsStream> v_;
  std::shared_ptr<ssl::context> context_;  // TLS: the context this connection was made with
};

}  // namespace hydra::http
