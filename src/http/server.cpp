#include "http/server.hpp"

#include "common/spawn.hpp"
#include "common/whole_number.hpp"
#include "http/descriptors.hpp"
#include "http/drained_read.hpp"
#include "http/feed.hpp"
#include "http/field_value.hpp"
#include "http/idle_waits.hpp"
#include "http/tls.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <algorithm>
#include <optional>
#include <atomic>
#include <spdlog/spdlog.h>

namespace hydra::http {

using namespace asio::experimental::awaitable_operators;

std::string ollama_error_body(bhttp::status, std::string_view message) {
  boost::json::object body;
  body["error"] = message;
  return boost::json::serialize(body);
}

std::string api_error_body(bhttp::status status, std::string_view message, std::string_view target) {
  if (!target.starts_with("/v1/")) return ollama_error_body(status, message);
  boost::json::object inner;
  inner["message"] = message;
  inner["type"] = static_cast<int>(status) >= 500 ? "server_error" : "invalid_request_error";
  inner["param"] = nullptr;
  inner["code"] = nullptr;
  boost::json::object body;
  body["error"] = std::move(inner);
  return boost::json::serialize(body);
}

// A Transfer-Encoding this server can read: exactly "chunked" (RFC 9112 6.1: any other
// coding, or chunked not last, leaves the body's length unknown).
static bool only_chunked(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return beast::iequals(value, "chunked");
}

namespace {

// Refuses framing that Beast 1.81 would accept or misread (request smuggling vectors). For
// Beast's message and the server's own request alike (fields with name() and value()).
template <class Message>
const char* framing_problem_of(const Message& req) {
  // One walk over the fields (a count() per name searches the field set each time).
  std::size_t te = 0, cl = 0, hosts = 0;
  std::string_view te_value;
  for (const auto& f : req) {
    switch (f.name()) {
      case bhttp::field::transfer_encoding:
        ++te;
        te_value = f.value();
        break;
      case bhttp::field::content_length: ++cl; break;
      case bhttp::field::host: ++hosts; break;
      default: break;
    }
  }
  if (te && cl) return "both Transfer-Encoding and Content-Length";
  if (cl > 1) return "more than one Content-Length";
  if (te > 1) return "more than one Transfer-Encoding";
  if (te && req.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
  if (te && !only_chunked(te_value)) return "unsupported Transfer-Encoding (only chunked is accepted)";
  if (hosts > 1) return "more than one Host";
  if (hosts == 0 && req.version() >= 11) return "no Host header in an HTTP/1.1 request";
  return nullptr;
}

}  // namespace

const char* framing_problem(const BeastRequest& req) { return framing_problem_of(req); }
const char* framing_problem(const Request& req) { return framing_problem_of(req); }

struct Server::State {
  asio::any_io_executor executor;
  Handler handler;
  ServerLimits limits;
  ErrorBody error_body;
  std::shared_ptr<ServerTls> tls;  // set: every connection is TLS
  RefusalHook refusal;              // set: told of each request refused before a handler
  std::shared_ptr<tcp::acceptor> acceptor;
  tcp::endpoint bound;
  std::atomic<bool> draining{false};  // drain(): no connection is kept alive after its reply
  std::atomic<std::size_t> open{0};  // connections accepted and not closed yet

  // Static with owning pointers: the loop may outlive a re-listen or the Server object.
  static awaitable<void> accept_loop(std::shared_ptr<State> self,
                                     std::shared_ptr<tcp::acceptor> acc) {
    asio::steady_timer backoff(self->executor);
    error_code ignored;
    acc->non_blocking(true, ignored);
    for (;;) {
      auto [ec, socket] = co_await acc->async_accept(use_nothrow);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acc->is_open()) co_return;
        // E.g. EMFILE: keep serving the connections we have, and retry a little later
        // rather than spinning on an error that will not clear at once. Out of descriptors,
        // the connection pools give up idle connections meanwhile (http/descriptors.hpp).
        if (out_of_descriptors(ec)) descriptors_short();
        backoff.expires_after(std::chrono::milliseconds(10));
        co_await backoff.async_wait(use_nothrow);
        continue;
      }
      asio::co_spawn(self->executor, session(self, std::move(socket)), logged("a client connection"));
      // Drain what else is already waiting in the backlog in this turn: under a burst of new
      // connections one accept per event-loop turn lets the listen queue overflow.
      for (int more = 0; more < 64; ++more) {
        tcp::socket next(self->executor);
        acc->accept(next, ec);
        if (ec) break;  // would_block: the backlog is empty
        asio::co_spawn(self->executor, session(self, std::move(next)), logged("a client connection"));
      }
    }
  }

  // What the buffer holds, as text.
  static std::string_view buffered(const beast::flat_buffer& buffer) {
    return {static_cast<const char*>(buffer.data().data()), buffer.size()};
  }

  // The target of a request whose head could not be read: the second word of its first
  // line, as far as it arrived (for the shape of the error; empty when there is none).
  static std::string_view head_target(const beast::flat_buffer& buffer) {
    std::string_view text = buffered(buffer);
    text = text.substr(0, text.find('\r'));
    const auto sp = text.find(' ');
    if (sp == std::string_view::npos) return {};
    text.remove_prefix(sp + 1);
    return text.substr(0, text.find(' '));
  }

  static bool expects_continue(const BeastRequest& req) {
    return req.version() >= 11 && beast::iequals(req[bhttp::field::expect], "100-continue");
  }

  // What had arrived of a refused request.
  struct Asked {
    std::string target;
    std::string_view method, request_id;
    tcp::endpoint remote;
  };
  // ... from what was read of it: Beast's message (the slow path) or the plain reader's request.
  template <class Message>
  static Asked asked_of(const Message& m, tcp::endpoint remote) {
    return Asked{std::string(m.target()), m.method_string(), m["X-Request-Id"], remote};
  }

  // A request whose framing is refused (framing_problem): 400, and the connection ends.
  awaitable<void> refuse_framing(Stream& stream, const char* problem, const Asked& asked) {
    co_await reply_error(stream, bhttp::status::bad_request, std::string("malformed request: ") + problem, asked);
    co_await linger(stream, limits);
  }

  awaitable<void> reply_error(Stream& stream, bhttp::status status, std::string_view message, const Asked& asked) {
    Response res{status, 11};
    res.set(bhttp::field::content_type, "application/json; charset=utf-8");
    res.body() = error_body(status, message, asked.target);
    if (refusal) refusal(Refused{static_cast<int>(status), asked.method, asked.target, asked.request_id, asked.remote}, res);
    make_field_values_safe(res);
    res.keep_alive(false);
    res.prepare_payload();
    stream.expires_after(limits.write_timeout);
    co_await bhttp::async_write(stream, res, use_nothrow);
  }

  // After refusing a request whose body is still arriving, read and discard the rest for a
  // moment so the client gets to read the answer instead of a connection reset.
  static awaitable<void> linger(Stream& stream, const ServerLimits& limits) {
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    char scratch[16384];
    std::size_t discarded = 0;
    stream.expires_after(std::chrono::seconds(2));
    while (discarded < 4 * limits.body_limit + (1u << 20)) {
      auto [rec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_nothrow);
      if (rec) break;
      discarded += n;
    }
  }

  // Answers a failed read of a request (head or body) when it deserves an answer; the
  // session ends either way.
  // `head_started`: some of the request had arrived when the read failed.
  awaitable<void> refuse(Stream& stream, error_code rec, bool body_started, bool head_started, const Asked& target) {
    if (rec == bhttp::error::body_limit) {
      co_await reply_error(stream, bhttp::status::payload_too_large, "request body too large", target);
      co_await linger(stream, limits);
    } else if (rec == bhttp::error::header_limit) {
      co_await reply_error(stream, bhttp::status::request_header_fields_too_large,
                           "request header too large", target);
    } else if (rec == beast::error::timeout && body_started) {
      co_await reply_error(stream, bhttp::status::request_timeout,
                           "request body arrived too slowly", target);
      co_await linger(stream, limits);
    } else if (rec == beast::error::timeout && head_started) {
      co_await reply_error(stream, bhttp::status::request_timeout,
                           "request head arrived too slowly (limits.header_timeout_ms)", target);
    } else {
      // Only a parse error deserves an answer; timeouts and closed peers just end the session.
      bool parse_error = rec.category() == make_error_code(bhttp::error::bad_method).category() &&
                         rec != bhttp::error::end_of_stream && rec != bhttp::error::partial_message;
      if (parse_error)
        co_await reply_error(stream, bhttp::status::bad_request,
                             std::string("malformed request: ") + rec.message(), target);
    }
  }

  // Reads the body. It has no overall deadline (a large upload on a slow link takes what it
  // takes) but must keep moving: at least body_min_rate bytes a second over each body_window,
  // else beast::error::timeout with the connection still open for a 408.
  static awaitable<error_code> read_body(Stream& stream, beast::flat_buffer& buffer,
                                         bhttp::request_parser<bhttp::string_body>& parser,
                                         const ServerLimits& limits) {
    if (auto parsed = parse_buffered(buffer, parser, true); parsed && (*parsed || parser.is_done())) co_return *parsed;
    stream.expires_never();
    if (limits.body_min_rate == 0 || limits.body_window.count() <= 0) {
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
      co_return ec;
    }
    const auto window_ms = static_cast<std::uint64_t>(limits.body_window.count());
    const std::uint64_t needed = std::max<std::uint64_t>(1, limits.body_min_rate * window_ms / 1000);
    std::uint64_t arrived = 0;
    asio::steady_timer window(stream.get_executor());
    window.expires_after(limits.body_window);
    while (!parser.is_done()) {
      auto raced = co_await (bhttp::async_read_some(stream, buffer, parser, use_nothrow) ||
                             window.async_wait(use_nothrow));
      if (raced.index() == 1) co_return make_error_code(beast::error::timeout);
      auto [ec, n] = std::get<0>(raced);
      if (ec) co_return ec;
      arrived += n;
      if (arrived >= needed) {  // this window's share arrived: the next window starts now
        arrived = 0;
        window.expires_after(limits.body_window);
      }
    }
    co_return error_code{};
  }

  // Feeds what the buffer holds to the parser (the head only, or the body too with `body`).
  // An error, no error (as far as it got), or nullopt when the buffer holds no complete head.
  static std::optional<error_code> parse_buffered(beast::flat_buffer& buffer,
                                                  bhttp::request_parser<bhttp::string_body>& parser, bool body) {
    if (!body) {
      if (buffered(buffer).find("\r\n\r\n") == std::string_view::npos) return std::nullopt;
    }
    return feed(buffer, parser, body);
  }

  // Reads the head by `head_deadline`; past it, beast::error::timeout with the connection
  // still open, so the client can be told (408).
  static awaitable<error_code> read_head(Stream& stream, beast::flat_buffer& buffer,
                                         bhttp::request_parser<bhttp::string_body>& parser,
                                         std::chrono::steady_clock::time_point head_deadline) {
    // Usually the whole head came with the connection's last read: parsed here, without a
    // read racing a timer.
    if (auto parsed = parse_buffered(buffer, parser, false); parsed && (*parsed || parser.is_header_done()))
      co_return *parsed;
    stream.expires_never();
    asio::steady_timer deadline(stream.get_executor());
    deadline.expires_at(head_deadline);
    auto raced = co_await (bhttp::async_read_header(stream, buffer, parser, use_nothrow) ||
                           deadline.async_wait(use_nothrow));
    if (raced.index() == 1) co_return make_error_code(beast::error::timeout);
    co_return std::get<0>(std::get<0>(raced));
  }

  // A TLS connection: the handshake within the head's deadline, then HTTP as on a plain one.
  // A failed handshake (plain HTTP on this port, an unknown certificate at the client, a
  // scanner) just closes the connection.
  static awaitable<void> tls_session(std::shared_ptr<State> self, tcp::socket socket) {
    error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    Stream stream(beast::tcp_stream(std::move(socket)), self->tls->context());
    stream.expires_after(self->limits.header_timeout);
    auto [hec] = co_await stream.tls()->async_handshake(ssl::stream_base::server, use_nothrow);
    if (hec) {
      spdlog::debug("TLS handshake from {} failed: {}", remote.address().to_string(), hec.message());
      stream.close();
      co_return;
    }
    co_await serve(self, stream);
    if (stream.socket().is_open()) {
      // close_notify, so the client can tell the end from a cut; a peer that does not answer
      // it is not waited for long.
      stream.expires_after(std::chrono::seconds(1));
      co_await stream.tls()->async_shutdown(use_nothrow);
    }
    stream.close();
  }

  static awaitable<void> session(std::shared_ptr<State> self, tcp::socket socket) {
    ++self->open;
    socket_opened();
    struct Closed {
      State& state;
      ~Closed() {
        --state.open;
        socket_closed();
      }
    } closed{*self};
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    if (self->tls) {
      co_await tls_session(self, std::move(socket));  // a copy: `closed` needs State alive
      co_return;
    }
    Stream stream(beast::tcp_stream(std::move(socket)));
    co_await serve(self, stream);
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.close();
  }

  // The slow path: Beast's parser reads the request (its head or body still arriving, a chunked
  // body, anything but the plain form) and refuses what it or the framing rules refuse, with an
  // answer where one is due. nullopt: the session ends.
  // `head_deadline`: when the head must have arrived (limits.header_timeout after its start).
  static awaitable<std::optional<Request>> read_request(std::shared_ptr<State> self, Stream& stream,
                                                        beast::flat_buffer& buffer, tcp::endpoint remote,
                                                        std::chrono::steady_clock::time_point head_deadline) {
    const ServerLimits& limits = self->limits;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(limits.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
    auto hec = co_await read_head(stream, buffer, parser, head_deadline);
    if (hec) {
      const bool head_started = buffer.size() > 0 || parser.got_some();
      // What the parser has of the head (a body over the limit by its Content-Length is
      // refused here with the head read whole).
      Asked asked = asked_of(parser.get(), remote);
      if (asked.target.empty()) asked.target = head_target(buffer);
      co_await self->refuse(stream, hec, false, head_started, asked);
      co_return std::nullopt;
    }
    const Asked target = asked_of(parser.get(), remote);
    if (const char* problem = framing_problem(parser.get())) {
      co_await self->refuse_framing(stream, problem, target);
      co_return std::nullopt;
    }
    if (!parser.is_done()) {
      if (expects_continue(parser.get())) {
        // The client waits for this before sending the body (a body over the limit by its
        // Content-Length was refused with 413 above, so it never gets here).
        static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        stream.expires_after(limits.write_timeout);
        auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(go_on), use_nothrow);
        if (cec) co_return std::nullopt;
      }
      auto bec = co_await read_body(stream, buffer, parser, limits);
      if (bec) {
        co_await self->refuse(stream, bec, true, true, target);
        co_return std::nullopt;
      }
    }
    co_return Request::from_beast(parser.release());
  }

  // The requests of one connection, one after another.
  static awaitable<void> serve(std::shared_ptr<State> self, Stream& stream) {
    const ServerLimits& limits = self->limits;
    error_code rec;
    const tcp::endpoint remote = stream.socket().remote_endpoint(rec);  // once per connection
    beast::flat_buffer buffer;
    // A plain connection waits for its next request with a read that leaves the socket marked
    // drained after a short read (the wait after the next reply then starts with no failed
    // recv: http/drained_read.hpp), timed by the thread's IdleWaits rather than by a timer.
    struct PlainWait {
      explicit PlainWait(Stream& s) : reads(s.socket()), waits(IdleWaits::of(s.get_executor())), wait(s.socket()) {}
      DrainingReads reads;
      std::shared_ptr<IdleWaits> waits;
      IdleWait wait;  // after `waits`: it leaves their list first
    };
    std::optional<PlainWait> plain;
    if (!stream.is_tls()) plain.emplace(stream);
    std::string head_space;  // each reply's head, written as text (Exchange::write_head)
    bool first = true;
    for (;;) {
      // A kept-alive connection may idle until its next request starts; from the first byte
      // on (and for a new connection's first request) the head must arrive promptly.
      if (!first && buffer.size() == 0) {
        // As much as the buffer holds already (the last request's size), between 1 and 8 KiB:
        // an idle connection of small requests keeps a small buffer.
        const std::size_t room = std::clamp<std::size_t>(buffer.capacity(), 1024, 8192);
        error_code iec;
        std::size_t n = 0;
        if (plain) {
          plain->wait.begin(*plain->waits, limits.idle_timeout);
          std::tie(iec, n) = co_await plain->reads.async_read_some(buffer.prepare(room), use_nothrow);
          plain->wait.end();
        } else {
          stream.expires_after(limits.idle_timeout);
          std::tie(iec, n) = co_await stream.async_read_some(buffer.prepare(room), use_nothrow);
        }
        if (iec) break;
        buffer.commit(n);
      }
      auto head_deadline = std::chrono::steady_clock::now() + limits.header_timeout;
      if (first && buffer.size() == 0) {
        // A new connection's first bytes, read here so that its first request is read as the
        // ones after it are (usually whole, below); the head's time counts from now. Nothing
        // by the deadline, or a peer that closed: the session ends without an answer.
        stream.expires_after(limits.header_timeout);
        auto [fec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_nothrow);
        if (fec) break;
        buffer.commit(n);
      }
      first = false;
      std::optional<Request> request;
      // Nearly always the whole request is in the buffer, in the plain form: read at once.
      if (auto whole = parse_plain_request(buffered(buffer), limits.header_limit, limits.body_limit)) {
        buffer.consume(whole->size);
        if (const char* problem = framing_problem(whole->request)) {
          const Asked asked = asked_of(whole->request, remote);
          co_await self->refuse_framing(stream, problem, asked);
          break;
        }
        request.emplace(std::move(whole->request));
      } else {
        auto read = co_await read_request(self, stream, buffer, remote, head_deadline);
        if (!read) break;
        request.emplace(std::move(*read));
      }
      stream.expires_never();  // the handler owns the timing of its own reply
      Exchange exchange(stream, buffer, std::move(*request), limits, remote, head_space);
      if (self->draining) exchange.close_after();
      co_await self->handler(exchange);
      if (!exchange.responded() && exchange.client_left()) {
        exchange.unanswered();  // no one to answer: counted as 499, not as a 500 written to no one
      } else if (!exchange.responded()) {
        co_await exchange.respond(bhttp::status::internal_server_error,
                                  self->error_body(bhttp::status::internal_server_error,
                                                   "handler produced no response", exchange.path()));
      } else if (exchange.streaming()) {
        co_await exchange.end_stream();  // a handler that forgot to finish still ends the body
      }
      exchange.finish();  // the router's observer, then the reply's tail
      if (!exchange.reusable() || !stream.socket().is_open()) break;
    }
  }
};

Server::Server(asio::any_io_executor executor, Handler handler, ServerLimits limits,
               ErrorBody error_body)
    : state_(std::make_shared<State>()) {
  state_->executor = std::move(executor);
  state_->handler = std::move(handler);
  state_->limits = limits;
  state_->error_body = std::move(error_body);
}

Server::~Server() { stop_listening(); }

void Server::use_tls(std::shared_ptr<ServerTls> tls) { state_->tls = std::move(tls); }

bool Server::tls() const { return state_->tls != nullptr; }

void Server::on_refusal(RefusalHook hook) { state_->refusal = std::move(hook); }

namespace {

// Whether any socket holds `endpoint` now: a bind without SO_REUSEPORT fails on a port that a
// listening socket has (with or without SO_REUSEPORT), as a lone server's own bind would.
error_code address_taken(const asio::any_io_executor& executor, const tcp::endpoint& endpoint) {
  if (endpoint.port() == 0) return {};  // a port of its own is picked
  tcp::acceptor probe(executor);
  error_code ec;
  probe.open(endpoint.protocol(), ec);
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(endpoint, ec);
  return ec;
}

}  // namespace

boost::system::result<tcp::endpoint> Server::listen(const tcp::endpoint& endpoint, Share share) {
  if (share == Share::first)
    if (error_code taken = address_taken(state_->executor, endpoint)) return taken;
  auto acc = std::make_shared<tcp::acceptor>(state_->executor);
  error_code ec;
  acc->open(endpoint.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && share != Share::none)
    acc->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
  if (!ec) acc->bind(endpoint, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  state_->bound = acc->local_endpoint(ec);
  state_->acceptor = acc;
  asio::co_spawn(state_->executor, State::accept_loop(state_, acc), logged("the accept loop"));
  return state_->bound;
}

void Server::stop_listening() {
  if (state_->acceptor && state_->acceptor->is_open()) {
    error_code ec;
    state_->acceptor->close(ec);
  }
}

void Server::drain() {
  state_->draining = true;
  asio::dispatch(state_->executor, [state = state_] {  // inline when on its own thread
    if (state->acceptor && state->acceptor->is_open()) {
      error_code ec;
      state->acceptor->close(ec);
    }
  });
}

bool Server::listening() const { return state_->acceptor && state_->acceptor->is_open(); }

tcp::endpoint Server::local_endpoint() const { return state_->bound; }

std::size_t Server::open_connections() const { return state_->open.load(); }

boost::system::result<tcp::endpoint> parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return make_error_code(boost::system::errc::invalid_argument);
  std::string host(text.substr(0, colon));
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  const auto port = whole_number<int>(port_text);
  if (!port || *port < 0 || *port > 65535) return make_error_code(boost::system::errc::invalid_argument);
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return ec;
  return tcp::endpoint(address, static_cast<unsigned short>(*port));
}

}  // namespace hydra::http
