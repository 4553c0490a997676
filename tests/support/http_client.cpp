#include "support/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <thread>

namespace hydra::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> exchange(const Endpoint& ep, const HttpCall& call, HttpReply& out) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(call.timeout);
  auto [cec] = co_await stream.async_connect(ep, nothrow);
  if (cec) {
    out.error = cec.message();
    co_return;
  }
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(call.method), call.target, 11};
  req.set(bhttp::field::host, ep.address().to_string() + ":" + std::to_string(ep.port()));
  for (const auto& [k, v] : call.headers) req.set(k, v);
  if (!call.body.empty() || call.method == "POST") {
    req.body() = call.body;
    if (!call.headers.count("Content-Type")) req.set(bhttp::field::content_type, "application/json");
    req.prepare_payload();
  }
  stream.expires_after(call.timeout);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, nothrow);
  if (wec) {
    out.error = wec.message();
    co_return;
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(1ull << 30);
  if (call.method == "HEAD") parser.skip(true);
  stream.expires_after(call.timeout);
  auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, nothrow);
  if (hec) {
    out.error = hec.message();
    co_return;
  }
  out.status = parser.get().result_int();
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  char piece[16384];
  while (!parser.is_done()) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    stream.expires_after(call.timeout);
    auto [rec, rn] = co_await bhttp::async_read_some(stream, buffer, parser, nothrow);
    if (rec == bhttp::error::need_buffer) rec = {};
    if (rec) {
      out.error = rec.message();
      co_return;
    }
    std::string_view got(piece, sizeof piece - parser.get().body().size);
    if (got.empty()) continue;
    out.body.append(got);
    if (call.on_data && !call.on_data(got)) co_return;  // hang up: the stream closes
  }
  out.complete = true;
}

}  // namespace

HttpReply request(const Endpoint& ep, const HttpCall& call) {
  HttpReply out;
  asio::io_context ioc;
  asio::co_spawn(ioc, exchange(ep, call, out), asio::detached);
  ioc.run();
  return out;
}

bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace hydra::test
