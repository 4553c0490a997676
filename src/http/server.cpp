#include "http/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace hydra::http {

std::string ollama_error_body(bhttp::status, std::string_view message) {
  boost::json::object body;
  body["error"] = message;
  return boost::json::serialize(body);
}

struct Server::State {
  asio::any_io_executor executor;
  Handler handler;
  ServerLimits limits;
  ErrorBody error_body;
  std::shared_ptr<tcp::acceptor> acceptor;
  tcp::endpoint bound;

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
        // rather than spinning on an error that will not clear at once.
        backoff.expires_after(std::chrono::milliseconds(50));
        co_await backoff.async_wait(use_nothrow);
        continue;
      }
      asio::co_spawn(self->executor, session(self, std::move(socket)), asio::detached);
      // Drain what else is already waiting in the backlog in this turn: under a burst of new
      // connections one accept per event-loop turn lets the listen queue overflow.
      for (int more = 0; more < 64; ++more) {
        tcp::socket next(self->executor);
        acc->accept(next, ec);
        if (ec) break;  // would_block: the backlog is empty
        asio::co_spawn(self->executor, session(self, std::move(next)), asio::detached);
      }
    }
  }

  // Refuses ambiguous framing that Beast 1.81 would accept (request smuggling vectors).
  static const char* framing_problem(const Request& req) {
    auto te = req.count(bhttp::field::transfer_encoding);
    auto cl = req.count(bhttp::field::content_length);
    if (te && cl) return "both Transfer-Encoding and Content-Length";
    if (cl > 1) return "more than one Content-Length";
    if (te > 1) return "more than one Transfer-Encoding";
    return nullptr;
  }

  awaitable<void> reply_error(beast::tcp_stream& stream, bhttp::status status,
                              std::string_view message) {
    Response res{status, 11};
    res.set(bhttp::field::content_type, "application/json; charset=utf-8");
    res.body() = error_body(status, message);
    res.keep_alive(false);
    res.prepare_payload();
    stream.expires_after(limits.write_timeout);
    co_await bhttp::async_write(stream, res, use_nothrow);
  }

  // After refusing a request whose body is still arriving, read and discard the rest for a
  // moment so the client gets to read the answer instead of a connection reset.
  static awaitable<void> linger(beast::tcp_stream& stream, const ServerLimits& limits) {
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

  static awaitable<void> session(std::shared_ptr<State> self, tcp::socket socket) {
    const ServerLimits& limits = self->limits;
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(limits.body_limit);
      parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
      // The first request must arrive promptly; later ones may idle on a kept-alive connection.
      if (first || buffer.size() > 0) {
        stream.expires_after(limits.header_timeout);
      } else {
        stream.expires_after(limits.idle_timeout);
        auto [hec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_nothrow);
        if (hec) break;
        stream.expires_after(limits.header_timeout);
      }
      first = false;
      auto [rec, n] = co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
      if (rec == bhttp::error::body_limit) {
        co_await self->reply_error(stream, bhttp::status::payload_too_large,
                                   "request body too large");
        co_await linger(stream, limits);
        break;
      }
      if (rec == bhttp::error::header_limit) {
        co_await self->reply_error(stream, bhttp::status::request_header_fields_too_large,
                             "request header too large");
        break;
      }
      if (rec) {
        // Only a parse error deserves an answer; timeouts and closed peers just end the session.
        bool parse_error = rec.category() == make_error_code(bhttp::error::bad_method).category() &&
                           rec != bhttp::error::end_of_stream && rec != bhttp::error::partial_message;
        if (parse_error)
          co_await self->reply_error(stream, bhttp::status::bad_request,
                                     std::string("malformed request: ") + rec.message());
        break;
      }
      Request req = parser.release();
      if (const char* problem = framing_problem(req)) {
        co_await self->reply_error(stream, bhttp::status::bad_request,
                             std::string("malformed request: ") + problem);
        break;
      }
      stream.expires_never();  // the handler owns the timing of its own reply
      Exchange exchange(stream, buffer, std::move(req), limits);
      co_await self->handler(exchange);
      if (!exchange.responded()) {
        co_await exchange.respond(bhttp::status::internal_server_error,
                                  self->error_body(bhttp::status::internal_server_error,
                                             "handler produced no response"));
      } else if (exchange.streaming()) {
        co_await exchange.end_stream();  // a handler that forgot to finish still ends the body
      }
      if (!exchange.reusable() || !stream.socket().is_open()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.close();
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

boost::system::result<tcp::endpoint> Server::listen(const tcp::endpoint& endpoint) {
  auto acc = std::make_shared<tcp::acceptor>(state_->executor);
  error_code ec;
  acc->open(endpoint.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(endpoint, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  state_->bound = acc->local_endpoint(ec);
  state_->acceptor = acc;
  asio::co_spawn(state_->executor, State::accept_loop(state_, acc), asio::detached);
  return state_->bound;
}

void Server::stop_listening() {
  if (state_->acceptor && state_->acceptor->is_open()) {
    error_code ec;
    state_->acceptor->close(ec);
  }
}

bool Server::listening() const { return state_->acceptor && state_->acceptor->is_open(); }

tcp::endpoint Server::local_endpoint() const { return state_->bound; }

boost::system::result<tcp::endpoint> parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return make_error_code(boost::system::errc::invalid_argument);
  std::string host(text.substr(0, colon));
  std::string port_text(text.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(port_text, &used);
    if (used != port_text.size() || port < 0 || port > 65535)
      return make_error_code(boost::system::errc::invalid_argument);
  } catch (...) {
    return make_error_code(boost::system::errc::invalid_argument);
  }
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return ec;
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace hydra::http
