#include "cluster/rpc_probe.hpp"

#include "cluster/rpc_codec.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace hydra::cluster {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using http::awaitable;
using http::use_nothrow;
using State = RpcServerView::State;

namespace {

constexpr uint32_t kMaxDevices = 64;

// One connection of a probe, every step bounded by the same timeout.
class Session {
public:
  Session(asio::any_io_executor ex, std::chrono::milliseconds timeout) : socket_(ex), timer_(ex), timeout_(timeout) {}

  enum class Step { ok, closed, timed_out };

  awaitable<boost::system::error_code> connect(http::tcp::endpoint ep) {
    timer_.expires_after(timeout_);
    auto r = co_await (socket_.async_connect(ep, use_nothrow) || timer_.async_wait(use_nothrow));
    if (r.index() == 1) co_return asio::error::timed_out;
    auto [ec] = std::get<0>(r);
    if (!ec) socket_.set_option(http::tcp::no_delay(true), ec);
    co_return ec;
  }

  // Sends a request and reads its reply (payload at most `max_payload` bytes) into `payload`.
  awaitable<Step> ask(std::string request, std::size_t max_payload, std::string& payload) {
    timer_.expires_after(timeout_);
    auto [wec, wn] = co_await asio::async_write(socket_, asio::buffer(request), use_nothrow);
    if (wec) co_return Step::closed;
    char head[8];
    auto r = co_await (asio::async_read(socket_, asio::buffer(head), use_nothrow) || timer_.async_wait(use_nothrow));
    if (r.index() == 1) co_return Step::timed_out;
    if (std::get<0>(std::get<0>(r))) co_return Step::closed;
    const std::optional<std::size_t> length = rpc::payload_length(std::string_view(head, 8), max_payload);
    if (!length) co_return Step::closed;
    payload.assign(*length, '\0');
    if (*length == 0) co_return Step::ok;
    auto b = co_await (asio::async_read(socket_, asio::buffer(payload), use_nothrow) || timer_.async_wait(use_nothrow));
    if (b.index() == 1) co_return Step::timed_out;
    auto [bec, bn] = std::get<0>(b);
    co_return bec ? Step::closed : Step::ok;
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

private:
  http::tcp::socket socket_;
  asio::steady_timer timer_;
  std::chrono::milliseconds timeout_;
};

RpcProbeResult result(State state, std::string error) {
  RpcProbeResult r;
  r.state = state;
  r.error = std::move(error);
  return r;
}

std::string busy_text(std::chrono::milliseconds timeout) {
  return fmt::format("connected, but no answer within {} ms: another client (a llama-server) is attached", timeout.count());
}

}  // namespace

awaitable<RpcProbeResult> probe_rpc_server(http::tcp::endpoint endpoint, std::chrono::milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  std::string payload;
  std::optional<rpc::Version> version;
  std::unique_ptr<Session> session;
  // The newest HELLO first (24 capability bytes), then the 3.x one: a server closes the
  // connection on the shape it does not expect.
  // (No braced list here: g++ 12 keeps an initializer_list's array in a coroutine frame badly.)
  for (int shape = 0; shape < 2; ++shape) {
    const bool with_caps = shape == 0;
    session = std::make_unique<Session>(ex, timeout);
    boost::system::error_code cec = co_await session->connect(endpoint);
    if (cec) {
      RpcProbeResult down = result(State::down, cec == asio::error::timed_out ? "no connection within the timeout" : cec.message());
      down.timed_out = cec == asio::error::timed_out;
      co_return down;
    }
    std::string hello = rpc::hello_request(with_caps);  // (a named local: see shards.cpp on g++ 12)
    Session::Step step = co_await session->ask(hello, 64, payload);
    if (step == Session::Step::timed_out) co_return result(State::busy, busy_text(timeout));
    if (step == Session::Step::ok) {
      version = rpc::parse_hello(payload);
      if (!version || version->with_caps != with_caps)
        co_return result(State::incompatible, fmt::format("HELLO answered with {} bytes, not a ggml-rpc reply", payload.size()));
      break;
    }
    session->close();
  }
  if (!version)
    co_return result(State::incompatible,
                     "the connection closed on both HELLO shapes: not an rpc-server, or one older than ggml-rpc 1.0 (before HELLO)");
  RpcProbeResult out{};
  out.version = fmt::format("{}.{}.{}", version->major, version->minor, version->patch);
  if (version->major < 3) {
    session->close();
    out.state = State::incompatible;
    out.error = fmt::format("ggml-rpc {} is too old: Hydra speaks 3.0.0 and later (one server, several devices)", out.version);
    co_return out;
  }
  std::string count_request = rpc::request(rpc::Command::device_count);
  Session::Step step = co_await session->ask(count_request, 64, payload);
  auto count = step == Session::Step::ok ? rpc::parse_device_count(payload) : std::nullopt;
  if (!count || *count > kMaxDevices) {
    session->close();
    out.state = step == Session::Step::timed_out ? State::busy : State::incompatible;
    out.error = "no device count (DEVICE_COUNT)";
    co_return out;
  }
  for (uint32_t d = 0; d < *count; ++d) {
    std::string memory_request = rpc::device_memory_request(d);
    step = co_await session->ask(memory_request, 64, payload);
    auto memory = step == Session::Step::ok ? rpc::parse_device_memory(payload) : std::nullopt;
    if (!memory) {
      session->close();
      out.state = State::incompatible;
      out.error = fmt::format("no memory reading for device {} (GET_DEVICE_MEMORY)", d);
      co_return out;
    }
    out.devices.push_back(RpcDevice{memory->free, memory->total});
  }
  session->close();  // at once: while we hold it, no coordinator can attach
  out.state = State::ready;
  co_return out;
}

}  // namespace hydra::cluster
