#include "http/client.hpp"

#include "http/tls.hpp"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace hydra::http {

std::shared_ptr<ssl::context> ConnectionPool::tls_context() {
  if (!tls_ && tls_error_.empty()) {
    tls_ = make_client_context("", tls_error_);
    if (!tls_ && tls_error_.empty()) tls_error_ = "no TLS context";
  }
  return tls_;
}

awaitable<std::pair<error_code, std::unique_ptr<Connection>>> ConnectionPool::acquire(
    const Peer& peer, std::chrono::milliseconds connect_timeout) {
  auto it = idle_.find(peer);
  while (it != idle_.end() && !it->second.empty()) {
    auto conn = std::move(it->second.back());
    it->second.pop_back();
    if (conn->stream.socket().is_open()) {
      conn->reused = true;
      co_return std::pair{error_code{}, std::move(conn)};
    }
  }
  std::unique_ptr<Connection> conn;
  if (peer.tls) {
    auto ctx = tls_context();
    if (!ctx) co_return std::pair{make_error_code(boost::system::errc::protocol_not_supported), nullptr};
    conn = std::make_unique<Connection>(Stream(beast::tcp_stream(executor_), std::move(ctx)));
    if (auto pec = prepare_client(*conn->stream.tls(), peer.host)) co_return std::pair{pec, nullptr};
  } else {
    conn = std::make_unique<Connection>(executor_);
  }
  // One deadline for the connect and the handshake.
  conn->stream.expires_after(connect_timeout);
  auto [ec] = co_await conn->stream.lowest().async_connect(peer.endpoint, use_nothrow);
  if (ec) co_return std::pair{ec, nullptr};
  error_code ignored;
  conn->stream.socket().set_option(tcp::no_delay(true), ignored);
  if (auto* tls = conn->stream.tls()) {
    auto [hec] = co_await tls->async_handshake(ssl::stream_base::client, use_nothrow);
    if (hec) co_return std::pair{handshake_error(*tls, hec), nullptr};
  }
  conn->stream.expires_never();
  co_return std::pair{error_code{}, std::move(conn)};
}

void ConnectionPool::release(const Peer& peer, std::unique_ptr<Connection> conn) {
  if (!conn || !conn->stream.socket().is_open()) return;
  auto& list = idle_[peer];
  if (list.size() >= max_idle_) return;
  conn->stream.expires_never();
  conn->buffer.clear();
  list.push_back(std::move(conn));
}

void ConnectionPool::drop(const tcp::endpoint& ep) {
  // Keys are ordered by endpoint first: TLS and plain entries to `ep` sit together.
  auto it = idle_.lower_bound(Peer(ep));
  while (it != idle_.end() && it->first.endpoint == ep) it = idle_.erase(it);
}

awaitable<FetchResult> fetch(ConnectionPool& pool, Peer peer, std::string host, bhttp::verb method,
                             std::string target, std::string body, std::chrono::milliseconds timeout) {
  FetchResult out;
  // A pooled connection may have been closed by the node meanwhile: one retry on a fresh one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto [ec, conn] = co_await pool.acquire(peer, timeout);
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
    if (parser.get().keep_alive()) pool.release(peer, std::move(conn));
    co_return out;
  }
  co_return out;
}

}  // namespace hydra::http
