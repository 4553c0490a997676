#include "http/client.hpp"

#include "http/descriptors.hpp"
#include "http/tls.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>
#include <algorithm>
#include <poll.h>

namespace hydra::http {

bool framing_field(std::string_view name) {
  switch (name.size()) {  // one comparison at most: every header of every head is asked
    case 10: return boost::beast::iequals(name, "Connection");
    case 12: return boost::beast::iequals(name, "Content-Type");
    case 14: return boost::beast::iequals(name, "Content-Length");
    case 17: return boost::beast::iequals(name, "Transfer-Encoding");
    default: return false;
  }
}

void write_request_head(std::string& out, bhttp::verb method, std::string_view target, const FieldList& headers,
                        std::string_view host, std::size_t body_size) {
  out.clear();
  // The fields' text plus what each line adds (": " and CR LF), the request line, Host and the length.
  out.reserve(headers.text_size() + 4 * 16 + target.size() + host.size() + 64);
  out.append(bhttp::to_string(method)).append(" ").append(target).append(" HTTP/1.1\r\n");
  for (const auto& f : headers)
    if (f.name() != bhttp::field::host && (f.name() == bhttp::field::content_type || !framing_field(f.name_string())))
      append_header(out, f.name_string(), f.value());
  append_header(out, "Host", host);
  const bool carries = method == bhttp::verb::post || method == bhttp::verb::put || method == bhttp::verb::patch;
  if (body_size > 0 || carries) append_header(out, "Content-Length", fmt::format_int(body_size).c_str());
  out.append("\r\n");
}

namespace {

using SteadyClock = std::chrono::steady_clock;

// How long a connection may have sat idle and still be reused without checking it first.
constexpr auto fresh_enough = std::chrono::milliseconds(500);

// An idle connection the node has left alone: nothing to read, no FIN, no reset. A node that
// closed it (its keep-alive timeout passed) or wrote to it unasked makes it unusable.
bool untouched(Stream& stream) {
  auto& socket = stream.socket();
  if (!socket.is_open()) return false;
  pollfd p{socket.native_handle(), static_cast<short>(POLLIN | POLLRDHUP), 0};
  return ::poll(&p, 1, 0) == 0;
}

// A new connection to `peer`: connect and, with `ctx` (a TLS peer), the handshake, together
// bounded by `timeout`. Arguments by value: the caller's may move while this is suspended.
awaitable<std::pair<error_code, std::unique_ptr<Connection>>> connect_new(asio::any_io_executor ex,
                                                                          std::shared_ptr<ssl::context> ctx, Peer peer,
                                                                          std::chrono::milliseconds timeout) {
  std::unique_ptr<Connection> conn;
  if (ctx) {
    conn = std::make_unique<Connection>(Stream(beast::tcp_stream(ex), std::move(ctx)));
    if (auto pec = prepare_client(*conn->stream.tls(), peer.host)) co_return std::pair{pec, nullptr};
  } else {
    conn = std::make_unique<Connection>(ex);
  }
  conn->stream.expires_after(timeout);
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

}  // namespace

std::shared_ptr<ssl::context> ConnectionPool::tls_context() {
  if (!tls_ && tls_error_.empty()) {
    tls_ = make_client_context("", tls_error_);
    if (!tls_ && tls_error_.empty()) tls_error_ = "no TLS context";
  }
  return tls_;
}

void ConnectionPool::expire(SteadyClock::time_point now) {
  if (now - last_expiry_ < idle_timeout_ / 2) return;
  last_expiry_ = now;
  for (auto it = idle_.begin(); it != idle_.end();) {
    std::erase_if(it->second, [&](const auto& conn) { return now - conn->idle_since >= idle_timeout_; });
    it = it->second.empty() ? idle_.erase(it) : std::next(it);
  }
}

std::unique_ptr<Connection> ConnectionPool::take_idle(const Peer& peer, Reuse reuse) {
  const auto now = SteadyClock::now();
  expire(now);
  auto it = reuse == Reuse::pooled ? idle_.find(peer) : idle_.end();
  while (it != idle_.end() && !it->second.empty()) {
    auto conn = std::move(it->second.back());  // the one idle the shortest
    it->second.pop_back();
    // Idle a moment only: reused without a look (a poll per request otherwise). A node seldom
    // closes a connection that fresh; if it did, retry_fresh() sends the request again.
    const auto idle = now - conn->idle_since;
    if (idle < idle_timeout_ && (idle < fresh_enough || untouched(conn->stream))) {
      conn->reused = true;
      return conn;
    }
  }
  return nullptr;
}

awaitable<std::pair<error_code, std::unique_ptr<Connection>>> ConnectionPool::acquire(
    const Peer& peer, std::chrono::milliseconds connect_timeout, Reuse reuse) {
  if (auto conn = take_idle(peer, reuse)) co_return std::pair{error_code{}, std::move(conn)};
  co_return co_await open(peer, connect_timeout);
}

awaitable<std::pair<error_code, std::unique_ptr<Connection>>> ConnectionPool::open(
    const Peer& peer, std::chrono::milliseconds connect_timeout) {
  if (!descriptors_to_spare(SteadyClock::now())) evict_oldest();  // the new connection takes its descriptor
  std::shared_ptr<ssl::context> ctx;
  if (peer.tls && !(ctx = tls_context()))
    co_return std::pair{make_error_code(boost::system::errc::protocol_not_supported), nullptr};
  for (int round = 0;; ++round) {
    auto made = co_await connect_new(executor_, ctx, peer, connect_timeout);
    // Out of descriptors: this pool's idle connections are closed (the other threads' give
    // theirs up one by one as they next take or give back one: none is to spare now), and the
    // connection is tried once more.
    if (round > 0 || !out_of_descriptors(made.first)) co_return made;
    descriptors_short();
    idle_.clear();
  }
}

namespace {
// This thread's spare piece buffers of one size (a pool is used by its own thread only): a
// few, so that a burst's end does not keep many.
std::vector<std::unique_ptr<char[]>>& spare_pieces(std::size_t size) {
  thread_local std::vector<std::unique_ptr<char[]>> small, large;
  return size == Connection::kLargePiece ? large : small;
}
constexpr std::size_t kSparePieces = 64;

std::unique_ptr<char[]> take_piece(std::size_t size) {
  auto& spares = spare_pieces(size);
  if (spares.empty()) return std::make_unique_for_overwrite<char[]>(size);
  auto piece = std::move(spares.back());
  spares.pop_back();
  return piece;
}
}  // namespace

Connection::Connection(asio::any_io_executor ex) : stream(std::move(ex)), reads(stream.socket()) { socket_opened(); }
Connection::Connection(Stream s) : stream(std::move(s)), reads(stream.socket()) { socket_opened(); }
Connection::~Connection() { socket_closed(); }

char* Connection::piece() {
  if (!piece_buffer) {
    piece_buffer = take_piece(kSmallPiece);
    piece_size = kSmallPiece;
  }
  return piece_buffer.get();
}

char* Connection::grow_piece() {
  if (piece_size != kLargePiece) {
    return_piece();
    piece_buffer = take_piece(kLargePiece);
    piece_size = kLargePiece;
  }
  return piece_buffer.get();
}

void Connection::return_piece() {
  if (!piece_buffer) return;
  auto& spares = spare_pieces(piece_size);
  if (spares.size() < kSparePieces) spares.push_back(std::move(piece_buffer));
  piece_buffer.reset();
  piece_size = 0;
}

void ConnectionPool::release(const Peer& peer, std::unique_ptr<Connection> conn) {
  if (!conn || !conn->stream.socket().is_open() || idle_timeout_.count() <= 0) return;
  if (conn->buffer.size() > 0) return;  // the node sent more than its reply: not to be trusted again
  auto& list = idle_[peer];
  if (list.size() >= max_idle_) return;
  const auto now = SteadyClock::now();
  // Near the open-file limit, the connection idle longest makes room for this one (or this
  // one is closed): the pool holds no more descriptors than it did. (Eviction leaves lists in
  // the map, `list` among them.)
  if (!descriptors_to_spare(now) && !evict_oldest() && !recount_descriptors(now)) return;
  conn->return_piece();
  conn->stream.expires_never();
  conn->idle_since = now;
  list.push_back(std::move(conn));
}

bool ConnectionPool::evict_oldest() {
  Idle* oldest = nullptr;  // each list is oldest first
  for (auto& [peer, list] : idle_)
    if (!list.empty() && (!oldest || list.front()->idle_since < oldest->front()->idle_since)) oldest = &list;
  if (!oldest) return false;
  oldest->erase(oldest->begin());  // an empty list stays until expire()
  return true;
}

bool ConnectionPool::retry_fresh(const Peer& peer, const Connection& conn, error_code ec, bool reply_started) {
  if (!ec || !conn.reused || reply_started || ec == beast::error::timeout || ec == asio::error::operation_aborted)
    return false;
  if (auto it = idle_.find(peer); it != idle_.end())
    std::erase_if(it->second, [&](const auto& other) { return other->idle_since <= conn.idle_since; });
  return true;
}

void ConnectionPool::drop(const tcp::endpoint& ep) {
  // Keys are ordered by endpoint first: TLS and plain entries to `ep` sit together.
  auto it = idle_.lower_bound(Peer(ep));
  while (it != idle_.end() && it->first.endpoint == ep) it = idle_.erase(it);
}

awaitable<FetchResult> fetch(ConnectionPool& pool, Peer peer, std::string host, bhttp::verb method,
                             std::string target, std::string body, std::chrono::milliseconds timeout) {
  return fetch(pool, std::move(peer), std::move(host), method, std::move(target), std::move(body), timeout, std::string());
}

awaitable<FetchResult> fetch(ConnectionPool& pool, Peer peer, std::string host, bhttp::verb method,
                             std::string target, std::string body, std::chrono::milliseconds timeout,
                             std::string authorization) {
  FetchResult out;
  // A pooled connection the node closed meanwhile: once more on a new one (retry_fresh).
  Reuse reuse = Reuse::pooled;
  for (int round = 0; round < 2; ++round) {
    auto [ec, conn] = co_await pool.acquire(peer, timeout, reuse);
    if (ec) {
      out.ec = ec;
      co_return out;
    }
    BeastRequest req{method, target, 11};
    req.set(bhttp::field::host, host);
    if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
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
      if (pool.retry_fresh(peer, *conn, rec, conn->buffer.size() > 0 || parser.got_some())) {
        reuse = Reuse::fresh;
        continue;
      }
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
