#include "http/client.hpp"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace hydra::http {

awaitable<std::pair<error_code, std::unique_ptr<Connection>>> ConnectionPool::acquire(
    const tcp::endpoint& ep, std::chrono::milliseconds connect_timeout) {
  auto it = idle_.find(ep);
  while (it != idle_.end() && !it->second.empty()) {
    auto conn = std::move(it->second.back());
    it->second.pop_back();
    if (conn->stream.socket().is_open()) {
      conn->reused = true;
      co_return std::pair{error_code{}, std::move(conn)};
    }
  }
  auto conn = std::make_unique<Connection>(executor_);
  conn->stream.expires_after(connect_timeout);
  auto [ec] = co_await conn->stream.async_connect(ep, use_nothrow);
  if (ec) co_return std::pair{ec, nullptr};
  error_code ignored;
  conn->stream.socket().set_option(tcp::no_delay(true), ignored);
  co_return std::pair{error_code{}, std::move(conn)};
}

void ConnectionPool::release(const tcp::endpoint& ep, std::unique_ptr<Connection> conn) {
  if (!conn || !conn->stream.socket().is_open()) return;
  auto& list = idle_[ep];
  if (list.size() >= max_idle_) return;
  conn->stream.expires_never();
  conn->buffer.clear();
  list.push_back(std::move(conn));
}

void ConnectionPool::drop(const tcp::endpoint& ep) { idle_.erase(ep); }

awaitable<FetchResult> fetch(ConnectionPool& pool, tcp::endpoint ep, std::string host, bhttp::verb method,
                             std::string target, std::string body, std::chrono::milliseconds timeout) {
  FetchResult out;
  // A pooled connection may have been closed by the node meanwhile: one retry on a fresh one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto [ec, conn] = co_await pool.acquire(ep, timeout);
    if (ec) {
      out.ec = ec;
      co_return out;
    }
    Request req{method, target, 11};
    req.set(bhttp::field::host, host);
    req.keep_alive(true);
    if (!body.empty() || method == bhttp::verb::post) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
    }
    conn->stream.expires_after(timeout);
    auto [wec, wn] = co_await bhttp::async_write(conn->stream, req, use_nothrow);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64u << 20);
    error_code rec = wec;
    if (!rec) std::tie(rec, std::ignore) = co_await bhttp::async_read(conn->stream, conn->buffer, parser, use_nothrow);
    if (rec) {
      if (conn->reused && attempt == 0) continue;
      out.ec = rec;
      co_return out;
    }
    out.status = parser.get().result_int();
    out.body = std::move(parser.get().body());
    if (parser.get().keep_alive()) pool.release(ep, std::move(conn));
    co_return out;
  }
  co_return out;
}

}  // namespace hydra::http
