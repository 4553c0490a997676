#include "http/exchange.hpp"

#include "http/field_value.hpp"
#include "http/router.hpp"
#include "http/send.hpp"

#include <charconv>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <poll.h>

namespace hydra::http {

namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  if (field_value_safe(value)) append_header(out, name, value);
  else append_header(out, name, safe_field_value(value));
}

}  // namespace

std::string address_text(const asio::ip::address& address) {
  if (!address.is_v4()) return address.to_string();
  const auto bytes = address.to_v4().to_bytes();
  char buf[16];  // "255.255.255.255"
  char* p = buf;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i) *p++ = '.';
    const unsigned v = bytes[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  return std::string(buf, p);
}

void Exchange::finish() {
  if (const Router* router = std::exchange(router_, nullptr))
    router->finished(route_, *this, std::chrono::steady_clock::now() - started_);
  tail_.end();
}

Exchange::Exchange(Stream& stream, beast::flat_buffer& buffer, Request request, const ServerLimits& limits,
                   tcp::endpoint remote, std::string& head_space)
    : stream_(stream), buffer_(buffer), request_(std::move(request)), limits_(limits), remote_(remote),
      head_(head_space), reusable_(request_.keep_alive()) {
  std::string_view target = request_.target();
  auto q = target.find('?');
  path_ = std::string(target.substr(0, q));
  if (q != std::string_view::npos) query_ = std::string(target.substr(q + 1));
}

awaitable<error_code> Exchange::respond(Response res) {
  if (state_ != State::idle) co_return make_error_code(boost::system::errc::operation_not_permitted);
  state_ = State::done;
  settle();
  status_ = res.result_int();
  res.version(request_.version());
  res.keep_alive(reusable_);
  if (!request_id_.empty()) res.set("X-Request-Id", request_id_.view());
  for (const auto& [name, value] : reply_headers_) res.set(name, value);
  make_field_values_safe(res);
  if (request_.method() == bhttp::verb::head) {
    auto size = res.body().size();
    res.body().clear();
    res.content_length(size);
    bhttp::response_serializer<bhttp::string_body> sr(res);
    stream_.expires_after(limits_.write_timeout);
    auto [ec, n] = co_await bhttp::async_write_header(stream_, sr, use_nothrow);
    if (ec) reusable_ = false;
    co_return ec;
  }
  res.prepare_payload();
  stream_.expires_after(limits_.write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream_, res, use_nothrow);
  if (ec) reusable_ = false;
  co_return ec;
}

awaitable<error_code> Exchange::respond(bhttp::status status, std::string body,
                                        std::string_view content_type) {
  Response res{status, request_.version()};
  res.set(bhttp::field::content_type, content_type);
  res.body() = std::move(body);
  co_return co_await respond(std::move(res));
}

awaitable<error_code> Exchange::respond_json(bhttp::status status, const boost::json::value& body) {
  co_return co_await respond(status, boost::json::serialize(body));
}

awaitable<error_code> Exchange::respond_error(bhttp::status status, std::string_view message) {
  boost::json::object body;
  body["error"] = message;
  co_return co_await respond_json(status, body);
}

// The routing headers (`extra`), the request's id, the exchange's own (a later one of the same
// name wins, as a header map's set() would), the content type, then the framing: Content-Length (the body
// follows raw) or chunked (HTTP/1.1), or raw until close (HTTP/1.0).
void Exchange::write_head(bhttp::status status, std::string_view content_type, HeadFields extra,
                          std::optional<std::uint64_t> content_length) {
  const bool http11 = request_.version() >= 11;
  const auto named_later = [&](std::string_view name, std::size_t from) {
    for (std::size_t i = from; i < reply_headers_.size(); ++i)
      if (boost::beast::iequals(reply_headers_[i].first, name)) return true;
    return false;
  };
  head_.clear();
  head_.reserve(512);  // a served reply's head with its route reason is about 350 bytes
  head_.append(http11 ? "HTTP/1.1 " : "HTTP/1.0 ");
  head_.append(fmt::format_int(static_cast<int>(status)).c_str());
  head_ += ' ';
  head_.append(bhttp::obsolete_reason(status));
  head_.append("\r\n");
  for (const auto& [name, value] : extra)
    if (!framing_field(name) && !named_later(name, 0)) append_field(head_, name, value);
  if (!request_id_.empty() && !named_later("X-Request-Id", 0)) append_field(head_, "X-Request-Id", request_id_.view());
  for (std::size_t i = 0; i < reply_headers_.size(); ++i)
    if (!framing_field(reply_headers_[i].first) && !named_later(reply_headers_[i].first, i + 1))
      append_field(head_, reply_headers_[i].first, reply_headers_[i].second);
  append_field(head_, "Content-Type", content_type);
  if (content_length) {
    append_header(head_, "Content-Length", fmt::format_int(*content_length).c_str());
    raw_stream_ = true;
    body_left_ = *content_length;
  } else if (http11) {
    append_header(head_, "Transfer-Encoding", "chunked");
  } else {
    raw_stream_ = true;  // HTTP/1.0: the body runs until the connection closes
    reusable_ = false;
  }
  if (http11 && !reusable_) append_header(head_, "Connection", "close");
  if (!http11 && reusable_) append_header(head_, "Connection", "keep-alive");
  head_.append("\r\n");
}

bool Exchange::begin_stream_now(bhttp::status status, std::string_view content_type, HeadFields extra,
                                std::optional<std::uint64_t> content_length, error_code& ec) {
  if (state_ != State::idle) {
    ec = make_error_code(boost::system::errc::operation_not_permitted);
    return true;
  }
  state_ = State::streaming;
  status_ = static_cast<int>(status);
  write_head(status, content_type, extra, content_length);
  if (content_length) {
    head_held_ = true;
    ec = {};
    return true;  // sent with the body's first bytes
  }
  rest_ = {asio::buffer(head_), asio::const_buffer(), asio::const_buffer()};
  return write_rest_now(ec);
}

awaitable<error_code> Exchange::begin_stream(bhttp::status status, std::string_view content_type, HeadFields extra,
                                             std::optional<std::uint64_t> content_length) {
  error_code ec;
  if (!begin_stream_now(status, content_type, extra, content_length, ec)) ec = co_await send_rest();
  co_return ec;
}

bool Exchange::write_rest_now(error_code& ec) {
  ec = {};
  rest_sent_ = 0;
  write_pending_ = !write_now(stream_, rest_, rest_sent_, ec);
  if (ec) reusable_ = false;
  return !write_pending_;
}

awaitable<error_code> Exchange::send_rest() {
  write_pending_ = false;
  const error_code ec = co_await write_rest(stream_, rest_, rest_sent_, limits_.write_timeout);
  if (ec) reusable_ = false;
  co_return ec;
}

namespace {

// A piece of a streamed body as it goes out, for one gathered write: after the head that waited
// for it (`head_held`, cleared), raw, or as a chunk of a chunked body: its size line (written
// into `line`, 20 bytes), the data and the CRLF after it (Beast's chunk_body walks a
// concatenated view).
std::array<asio::const_buffer, 3> body_piece(bool& head_held, std::string_view head, bool raw, std::string_view data,
                                             char* line) {
  if (head_held) {
    head_held = false;
    return {asio::buffer(head), asio::buffer(data), asio::const_buffer()};
  }
  if (raw) return {asio::buffer(data), asio::const_buffer(), asio::const_buffer()};
  auto [end, ec] = std::to_chars(line, line + 16, data.size(), 16);
  *end++ = '\r';
  *end++ = '\n';
  return {asio::const_buffer(line, static_cast<std::size_t>(end - line)), asio::buffer(data),
          asio::const_buffer("\r\n", 2)};
}

}  // namespace

bool Exchange::send_chunk_now(std::string_view data, error_code& ec) {
  ec = {};
  if (state_ != State::streaming) ec = make_error_code(boost::system::errc::operation_not_permitted);
  if (ec || data.empty()) return true;  // an empty chunk would end the body
  if (body_left_ > 0) {  // a sized body: the bytes that complete it settle the reply before they go out
    body_left_ -= std::min<std::uint64_t>(body_left_, data.size());
    if (body_left_ == 0) settle();
  }
  rest_ = body_piece(head_held_, head_, raw_stream_, data, size_line_);
  return write_rest_now(ec);
}

awaitable<error_code> Exchange::send_chunk(std::string_view data) {
  error_code ec;
  if (!send_chunk_now(data, ec)) ec = co_await send_rest();
  co_return ec;
}

bool Exchange::end_stream_now(error_code& ec) { return end_stream_now({}, ec); }

bool Exchange::end_stream_now(std::string_view last, error_code& ec) {
  ec = {};
  if (state_ != State::streaming || (!last.empty() && !chunked())) {
    ec = make_error_code(boost::system::errc::operation_not_permitted);
    return true;
  }
  state_ = State::done;
  settle();
  if (!last.empty()) {  // the last chunk's CRLF, then the empty chunk that ends the body
    rest_ = body_piece(head_held_, head_, false, last, size_line_);
    rest_[2] = asio::const_buffer("\r\n0\r\n\r\n", 7);
  } else if (head_held_) {  // an empty body (or a HEAD request): the head alone
    rest_ = body_piece(head_held_, head_, raw_stream_, {}, nullptr);
  } else if (raw_stream_) {
    return true;
  } else {
    rest_ = {asio::const_buffer("0\r\n\r\n", 5), asio::const_buffer(), asio::const_buffer()};
  }
  return write_rest_now(ec);
}

awaitable<error_code> Exchange::end_stream() {
  error_code ec;
  if (!end_stream_now(ec)) ec = co_await send_rest();
  co_return ec;
}

namespace {

// Whether the peer has shut down or reset the connection, even with unread bytes pending.
bool peer_hung_up(tcp::socket& socket) {
  pollfd p{socket.native_handle(), static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

// How much of a pipelined next request wait_closed() reads ahead before it stops reading and
// only polls for a hang-up. A reset is seen at once; a plain close only once the bytes before it
// fit in the socket's buffer (so a client that pipelines megabytes and then leaves is seen when
// the handler ends). Clients hardly pipeline; the bound keeps such a client's memory small.
constexpr std::size_t read_ahead_limit = 256u << 10;

}  // namespace

awaitable<void> Exchange::wait_closed() {
  stream_.expires_never();
  auto& socket = stream_.socket();
  for (;;) {
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return;
    if (!watching_ && buffer_.size() < read_ahead_limit) {
      // Plain: the raw socket, outside the beast stream's timers. TLS: through the TLS layer
      // (the bytes are records); Asio's TLS stream allows this one read beside the reply's
      // writes. Either read honours per-operation cancellation, so this can race a timer
      // (awaitable operators) and lose cleanly. What arrives goes into the session's buffer,
      // where the next request's parse finds it.
      watching_ = true;
      // Into the room the session's buffer has (a little at least): a reply's wait must not
      // make every connection's buffer large (ten thousand streams each waiting here).
      const std::size_t want = std::clamp<std::size_t>(buffer_.capacity() - buffer_.size(), 512, 16384);
      auto room = buffer_.prepare(std::min<std::size_t>(read_ahead_limit - buffer_.size(), want));
      error_code ec;
      std::size_t n = 0;
      if (stream_.is_tls()) {
        stream_.expires_never();  // a reply's write meanwhile must not leave its deadline on this read
        std::tie(ec, n) = co_await stream_.async_read_some(room, use_nothrow);
      } else {
        std::tie(ec, n) = co_await socket.async_read_some(room, use_nothrow);
      }
      watching_ = false;
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {  // end of stream or reset: the client is gone
        reusable_ = false;
        client_left_ = true;
        co_return;
      }
      buffer_.commit(n);
      continue;
    }
    // Enough read ahead (or another wait is reading): look for a hang-up now and then.
    asio::steady_timer tick(co_await asio::this_coro::executor);
    tick.expires_after(std::chrono::milliseconds(250));
    auto [tec] = co_await tick.async_wait(use_nothrow);
    if (tec) co_return;
    if (peer_hung_up(socket)) {
      reusable_ = false;
      client_left_ = true;
      co_return;
    }
  }
}

void Exchange::abort() {
  reusable_ = false;
  state_ = State::done;
  error_code ec;
  // Linger 0 turns the close into a reset, as a crashing server would produce.
  stream_.socket().set_option(asio::socket_base::linger(true, 0), ec);
  stream_.socket().close(ec);
}

}  // namespace hydra::http
