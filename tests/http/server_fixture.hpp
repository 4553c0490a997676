#pragma once
// What the http server tests share: a server with a small router on a background thread, and
// a raw client that sends exact bytes and reads with deadlines (for framing and timing cases
// a real client would never produce).
#include "http/router.hpp"
#include "http/server.hpp"
#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>

namespace hydra::test {

namespace asio = http::asio;
namespace bhttp = http::bhttp;
using http::tcp;

// Sends bytes as given; reads what comes back until a condition holds, the server closes, or a
// deadline passes.
class RawClient {
public:
  explicit RawClient(const tcp::endpoint& ep) : socket_(io_) { socket_.connect(ep); }

  // Sends what the peer takes within `limit`; returns how much that was.
  std::size_t send(std::string_view bytes, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      auto n = ::send(socket_.native_handle(), bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{socket_.native_handle(), POLLOUT, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
    }
    return sent;
  }

  // Reads until `done(received())` holds (true) or the server closes or `limit` passes (false).
  bool read_until(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (done(received_)) return true;
      if (closed_) return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{socket_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[16384];
      auto n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) closed_ = true;
      else received_.append(buf, static_cast<std::size_t>(n));
    }
  }
  bool read_until_contains(std::string_view text, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    return read_until([text](const std::string& r) { return r.find(text) != std::string::npos; }, limit);
  }
  // Reads until the server closes the connection (true) or `limit` passes (false).
  bool read_to_close(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    read_until([](const std::string&) { return false; }, limit);
    return closed_;
  }
  const std::string& received() const { return received_; }
  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }
  // No more bytes from this side (a FIN); replies can still be read.
  void shut_down_sending() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
  }
  // An abortive close: the peer sees a reset, whatever is still queued.
  void reset() {
    boost::system::error_code ec;
    socket_.set_option(asio::socket_base::linger(true, 0), ec);
    socket_.close(ec);
  }

private:
  asio::io_context io_;
  tcp::socket socket_;
  std::string received_;
  bool closed_ = false;
};

inline std::size_t count_of(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A server with a tiny router on a background thread. Tests may add routes to router_ before
// start().
class ServerFixture : public ::testing::Test {
protected:
  void start(http::ServerLimits limits = {}) {
    using http::Exchange;
    router_.add({bhttp::verb::get, bhttp::verb::head}, "/", [](Exchange& ex) -> http::awaitable<void> {
      co_await ex.respond(bhttp::status::ok, "hello", "text/plain");
    });
    router_.add(bhttp::verb::post, "/echo", [](Exchange& ex) -> http::awaitable<void> {
      co_await ex.respond(bhttp::status::ok, ex.body(), "text/plain");
    });
    router_.add(bhttp::verb::get, "/stream", [](Exchange& ex) -> http::awaitable<void> {
      if (co_await ex.begin_stream(bhttp::status::ok, "application/x-ndjson")) co_return;
      for (int i = 0; i < 3; ++i)
        if (co_await ex.send_chunk("{\"i\":" + std::to_string(i) + "}\n")) co_return;
      co_await ex.end_stream();
    });
    server_ = std::make_unique<http::Server>(ioc_.get_executor(), router_.handler(), limits);
    ep_ = server_->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)).value();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  // Sends raw bytes and returns everything the server answers until it closes.
  std::string raw(const std::string& bytes) {
    RawClient c(ep_);
    c.send(bytes);
    c.read_to_close();
    return c.received();
  }

  asio::io_context ioc_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  tcp::endpoint ep_;
  std::thread thread_;
};

}  // namespace hydra::test
