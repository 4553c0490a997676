#pragma once
// One request and its reply on a server connection. Handlers receive an Exchange and answer
// through it, either with one whole response or as a stream of chunks. The connection
// (owned by the server session) outlives the Exchange.
#include "common/short_text.hpp"
#include "http/request.hpp"
#include "http/stream.hpp"
#include "http/threads.hpp"
#include "http/types.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/json/value.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hydra::http {

class Router;

// An address as text ("127.0.0.1", "::1"), as Asio words it; IPv4 without inet_ntop's sprintf
// (the access log and the request log name every request's client).
std::string address_text(const asio::ip::address& address);

class Exchange {
public:
  // `remote`: the client's address, read once per connection. `head_space`: the connection's
  // room for a reply head, which each exchange on it reuses (no allocation per request).
  Exchange(Stream& stream, beast::flat_buffer& buffer, Request request, const ServerLimits& limits,
           tcp::endpoint remote, std::string& head_space);

  const Request& request() const { return request_; }
  std::string_view method_string() const { return request_.method_string(); }
  std::string_view path() const { return path_; }
  std::string_view query() const { return query_; }
  const std::string& body() const { return request_.body(); }
  // Moves the body out (a 64 MiB body need not be copied again); body() is empty afterwards.
  std::string take_body() { return std::move(request_.body()); }
  tcp::endpoint remote() const { return remote_; }
  // The client's address as text (address_text), made once per exchange however many ask.
  const std::string& remote_text() const {
    if (remote_text_.empty()) remote_text_ = address_text(remote_.address());
    return remote_text_;
  }

  // Whole replies. Content-Length is set; keep-alive follows the request.
  awaitable<error_code> respond(Response res);
  awaitable<error_code> respond(bhttp::status status, std::string body,
                                std::string_view content_type = "application/json; charset=utf-8");
  awaitable<error_code> respond_json(bhttp::status status, const boost::json::value& body);
  // Ollama's error shape: {"error": message}.
  awaitable<error_code> respond_error(bhttp::status status, std::string_view message);

  // Streamed replies: chunked transfer encoding, or raw bytes when `content_length` is known
  // (raw + close for HTTP/1.0 peers). `extra` fields (routing headers, each name once; views
  // that must live until the call completes) go into the head, unless a reply header of the
  // exchange (add_reply_header) names the same field; with a known length the head goes out
  // with the first send_chunk() (or end_stream()).
  awaitable<error_code> begin_stream(bhttp::status status, std::string_view content_type, HeadFields extra = {},
                                     std::optional<std::uint64_t> content_length = std::nullopt);
  awaitable<error_code> send_chunk(std::string_view data);
  awaitable<error_code> end_stream();
  // The same in two steps, for a caller that is a coroutine already: no frame of their own
  // when the socket takes everything at once (the common case).
  //   if (!ex.send_chunk_now(data, ec)) ec = co_await ex.send_rest();
  // A `_now` call returns true when nothing is left to do (`ec` says how it went); else
  // send_rest() writes what the socket did not take (`data` must stay valid until it returns),
  // and write_pending() says so until then.
  bool begin_stream_now(bhttp::status status, std::string_view content_type, HeadFields extra,
                        std::optional<std::uint64_t> content_length, error_code& ec);
  bool send_chunk_now(std::string_view data, error_code& ec);
  bool end_stream_now(error_code& ec);
  // A chunked body's last chunk (`last`, not empty) and its end in one write; `last` must stay
  // valid until send_rest() returns, when that is needed. Only while chunked() holds.
  bool end_stream_now(std::string_view last, error_code& ec);
  awaitable<error_code> send_rest();
  bool write_pending() const { return write_pending_; }

  // Completes when the peer closes or resets the connection: the client is gone. Bytes the
  // client sends meanwhile (a pipelined next request) are kept for the session's next parse,
  // never consumed. Cancellable (race it with `||`); one wait at a time per exchange.
  awaitable<void> wait_closed();
  // Drops the connection without a reply (fault injection, fatal errors mid-stream).
  void abort();
  // wait_closed() saw the client go. A handler that then ends without replying leaves the
  // exchange to unanswered(): nothing is written, and status() says 499 (nginx's "client closed
  // request") to whatever counts replies, as the access and request logs say.
  bool client_left() const { return client_left_; }
  void unanswered() {
    status_ = 499;
    reusable_ = false;
    state_ = State::done;
  }

  bool responded() const { return state_ != State::idle; }
  // The status of the reply's head, once sent (0 before).
  int status() const { return status_; }
  bool streaming() const { return state_ == State::streaming; }
  // A streamed reply whose body goes out in chunks, its head already written.
  bool chunked() const { return state_ == State::streaming && !raw_stream_ && !head_held_; }
  // Whether the connection may carry another request after this one.
  bool reusable() const { return reusable_; }
  // The reply says `Connection: close` and the connection ends after it (the server drains).
  void close_after() { reusable_ = false; }

  // A field every reply of this exchange carries (rate-limit headers), set before replying.
  void add_reply_header(std::string name, std::string value) {
    reply_headers_.emplace_back(std::move(name), std::move(value));
  }
  // An opaque pointer that a wrapping handler attaches for the handlers it calls (the API's
  // access guard: the caller's key). Owned by whoever set it; outlives the handler call.
  void set_context(const void* context) { context_ = context; }
  const void* context() const { return context_; }
  // The request's id (X-Request-Id: the client's when sane, else made up), set by the API's
  // guard; empty when no guard ran. Every reply then carries it as X-Request-Id, before the
  // fields of add_reply_header (no copy of it per request).
  void set_request_id(const RequestIdText& id) { request_id_ = id; }
  std::string_view request_id() const { return request_id_.view(); }
  // A second opaque pointer: what the API's access log learns of this request while it is
  // served (the model, the node...), filled in by the handlers. Owned by whoever set it.
  void set_log_context(void* context) { log_context_ = context; }
  void* log_context() const { return log_context_; }

  // The reply's content is complete: the client may act on it before the last bytes (an
  // Ollama client stops reading at the chunk that says "done"). `on_settled` runs once, at the
  // first settle(): a whole reply, the bytes that complete a sized body, end_stream(), or a sink
  // that saw the final chunk go out. The access guard hands a key's concurrency slot back there,
  // so a client that sends its next request as soon as it has the last chunk is not refused.
  void on_settled(std::function<void()> run) { settled_ = std::move(run); }
  void settle() {
    tail_.begin();
    if (settled_) std::exchange(settled_, {})();
  }
  // The router that took this request, and by which route (Router::dispatch, which is no
  // coroutine): finish() tells it once the handler is done.
  void set_router(const Router* router, std::string_view route, std::chrono::steady_clock::time_point started) {
    router_ = router;
    route_ = route;
    started_ = started;
  }
  // After the handler and the server's own end of the reply (Server): the router's observer,
  // then what follows the reply on this thread is handed over (ReplyTail).
  void finish();

private:
  // Writes rest_ at once as far as the socket takes it; true when nothing is left (or `ec`).
  bool write_rest_now(error_code& ec);
  // A streamed reply's head, written as text into head_: no header map, no serializer.
  void write_head(bhttp::status status, std::string_view content_type, HeadFields extra,
                  std::optional<std::uint64_t> content_length);

  enum class State { idle, streaming, done };
  Stream& stream_;
  beast::flat_buffer& buffer_;
  Request request_;
  const ServerLimits& limits_;
  tcp::endpoint remote_;
  std::string path_;
  std::string query_;
  State state_ = State::idle;
  int status_ = 0;
  bool raw_stream_ = false;
  // A reply of known length: its head waits for the first bytes of the body and goes out in
  // the same write (one send instead of two for a small reply).
  std::string& head_;  // the connection's
  bool head_held_ = false;
  std::uint64_t body_left_ = 0;  // of a sized body, bytes not yet sent: the last of them settle the reply
  // The write under way (a piece of the body after its held head or chunk-size line), and how
  // much of it the socket took: send_rest() goes on from there.
  std::array<asio::const_buffer, 3> rest_{};
  std::size_t rest_sent_ = 0;
  bool write_pending_ = false;  // rest_ is not all written: send_rest() must be awaited
  char size_line_[20];
  bool reusable_;
  bool watching_ = false;  // a wait_closed() is reading into buffer_
  bool client_left_ = false;  // ... and saw the client go
  std::vector<std::pair<std::string, std::string>> reply_headers_;
  const void* context_ = nullptr;
  RequestIdText request_id_;
  mutable std::string remote_text_;
  void* log_context_ = nullptr;
  std::function<void()> settled_;
  const Router* router_ = nullptr;
  std::string_view route_;
  std::chrono::steady_clock::time_point started_;
  ReplyTail tail_;
};

}  // namespace hydra::http
