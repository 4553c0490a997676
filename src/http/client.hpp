#pragma once
// The upstream side: pooled keep-alive connections to nodes, and requests over them.
// Not thread-safe: one pool per io_context thread.
#include "http/drained_read.hpp"
#include "http/field_list.hpp"
#include "http/stream.hpp"
#include "http/types.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
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

// Where upstream connections go: an address, and for TLS the name (DNS name or IP literal)
// the peer's certificate must carry, also sent as SNI. Implicit from an endpoint: plain TCP.
struct Peer {
  Peer(tcp::endpoint ep) : endpoint(ep) {}  // NOLINT: plain TCP, as before TLS existed
  Peer(tcp::endpoint ep, bool use_tls, std::string name)
      : endpoint(ep), tls(use_tls), host(use_tls ? std::move(name) : std::string()) {}
  tcp::endpoint endpoint;
  bool tls = false;
  std::string host;  // TLS only
  bool operator<(const Peer& o) const {
    if (endpoint != o.endpoint) return endpoint < o.endpoint;
    if (tls != o.tls) return tls < o.tls;
    return host < o.host;
  }
};

// One upstream connection with its read buffer; returned to the pool when reusable. Counted
// while it exists (http/descriptors.hpp).
struct Connection {
  explicit Connection(asio::any_io_executor ex);
  explicit Connection(Stream s);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Stream stream;
  DrainingReads reads;  // of a plain connection's socket (http/drained_read.hpp)
  beast::flat_buffer buffer;
  std::string head;  // the head of the request being sent (write_request_head); capacity kept
  // Where a reply's body is read to, piece by piece (piece()): a buffer taken from this thread's
  // spares, given back when the connection goes idle in the pool (return_piece()), so that no
  // request allocates one or carries it in a coroutine frame, and idle connections hold none.
  // A small one first (a page, like nginx's proxy_buffer_size: a stream's lines fit, and ten
  // thousand streams waiting on their nodes hold little); a reply that fills it reads on into
  // a large one (grow_piece()), so big bodies take few reads.
  static constexpr std::size_t kSmallPiece = 4096;
  static constexpr std::size_t kLargePiece = 16384;
  char* piece();       // piece_size bytes
  char* grow_piece();  // the large one in place of a small one
  void return_piece();
  std::unique_ptr<char[]> piece_buffer;
  std::size_t piece_size = 0;
  bool reused = false;  // came from the pool (a stale keep-alive may fail on first use)
  std::chrono::steady_clock::time_point idle_since;  // when it was last given back to the pool
};

// An HTTP/1.1 keep-alive request head as text into `out`: the request line, `headers` (but
// Host and the framing fields, which this sets), Host, and Content-Length for a body (or a
// method that carries one). No header map, no serializer: the data path's way to send.
void write_request_head(std::string& out, bhttp::verb method, std::string_view target, const FieldList& headers,
                        std::string_view host, std::size_t body_size);

// Whether acquire() may hand out a pooled connection, or must make a new one.
enum class Reuse { pooled, fresh };

// How long a connection may sit idle in the pool before it is closed rather than reused: below
// the keep-alive timeout of the servers nodes run (llama.cpp's server closes idle connections
// after 5 s; Ollama's Go server, reverse proxies and `hydra sim` later), so that the node is
// hardly ever the one to close it. timeouts.pool_idle_s.
constexpr std::chrono::milliseconds kDefaultPoolIdle{4'000};

class ConnectionPool {
public:
  explicit ConnectionPool(asio::any_io_executor ex, std::size_t max_idle_per_host = 64,
                          std::chrono::milliseconds idle_timeout = kDefaultPoolIdle)
      : executor_(std::move(ex)), max_idle_(max_idle_per_host), idle_timeout_(idle_timeout) {}

  // An idle pooled connection (unless `reuse` is fresh), or a new one: connect and, for a TLS
  // peer, the handshake (certificate verified) together bounded by `connect_timeout`. A pooled
  // connection is handed out only when it has been idle less than the idle timeout and the node
  // has not closed it (a FIN, a reset or stray bytes waiting on it: closed instead). A refused
  // certificate is a tls_verify_category() error (see http::error_text).
  awaitable<std::pair<error_code, std::unique_ptr<Connection>>> acquire(
      const Peer& peer, std::chrono::milliseconds connect_timeout, Reuse reuse = Reuse::pooled);
  // acquire()'s two steps, for a caller that is a coroutine already: take_idle(), without a
  // coroutine, a pooled connection fit for reuse (or null); open(), a new one.
  std::unique_ptr<Connection> take_idle(const Peer& peer, Reuse reuse = Reuse::pooled);
  awaitable<std::pair<error_code, std::unique_ptr<Connection>>> open(const Peer& peer,
                                                                    std::chrono::milliseconds connect_timeout);
  // Gives a connection back for reuse; only call when the last response was read whole.
  void release(const Peer& peer, std::unique_ptr<Connection> conn);
  // Drops idle connections to an endpoint, TLS or not (the node went away).
  void drop(const tcp::endpoint& ep);

  // A request on `conn` failed with `ec`. True when it may go again on a fresh connection
  // (acquire with Reuse::fresh), whatever its method: `conn` came from the pool and not a byte
  // of the reply had arrived (`reply_started` false), so the node closed the connection while
  // it sat idle and never saw the request. A timeout is not that (the node had the request),
  // nor is any failure of a new connection. Idle connections to `peer` that have waited at
  // least as long as `conn` are dropped too: the node closed them as well, most likely.
  bool retry_fresh(const Peer& peer, const Connection& conn, error_code ec, bool reply_started);

  // How long a connection may stay idle in the pool (0: connections are never reused).
  void set_idle_timeout(std::chrono::milliseconds idle) { idle_timeout_ = idle; }
  std::chrono::milliseconds idle_timeout() const { return idle_timeout_; }

  // The context TLS peers are verified with (start-up; default: the system's CAs, made on
  // first use). See make_client_context().
  void set_tls(std::shared_ptr<ssl::context> client_context) { tls_ = std::move(client_context); }

private:
  using Idle = std::vector<std::unique_ptr<Connection>>;  // oldest first
  std::shared_ptr<ssl::context> tls_context();
  // Closes every idle connection past the idle timeout (at most once per half of it): those to
  // nodes no request goes to any more would otherwise sit half-closed until the gateway stops.
  void expire(std::chrono::steady_clock::time_point now);
  // Closes the connection that has been idle longest, to any node (false: none is idle).
  bool evict_oldest();
  asio::any_io_executor executor_;
  std::size_t max_idle_;
  std::chrono::milliseconds idle_timeout_;
  std::chrono::steady_clock::time_point last_expiry_{};
  std::map<Peer, Idle> idle_;
  std::shared_ptr<ssl::context> tls_;
  std::string tls_error_;  // why the default context could not be made
};

// A whole small request/response (probes, fan-out queries). Body capped at 64 MiB.
// Everything is taken by value: a coroutine's views into its caller's data dangle when that
// data moves while the coroutine is suspended (the cluster's node list grows, say).
struct FetchResult {
  error_code ec;
  int status = 0;
  std::string body;
};
awaitable<FetchResult> fetch(ConnectionPool& pool, Peer peer, std::string host, bhttp::verb method,
                             std::string target, std::string body, std::chrono::milliseconds timeout);
// ... with an Authorization header (e.g. "Bearer TOKEN").
awaitable<FetchResult> fetch(ConnectionPool& pool, Peer peer, std::string host, bhttp::verb method,
                             std::string target, std::string body, std::chrono::milliseconds timeout,
                             std::string authorization);

}  // namespace hydra::http
