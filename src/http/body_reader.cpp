#include "http/body_reader.hpp"

#include "http/client.hpp"
#include "http/feed.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

namespace hydra::http {

namespace {

// A chunk-size line's extension, or a trailer section, longer than this is refused.
constexpr std::size_t kLineLimit = 64u << 10;
// Hex digits of a chunk size: 15 keep it below 2^60.
constexpr std::size_t kSizeDigits = 15;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ReadEnds for a reply head's read into conn.buffer (context): what the buffer held before and
// the bytes just read (right after it) are one whole reply.
bool head_read_ends(const void* buffer, const char* data, std::size_t n) {
  const auto& b = *static_cast<const beast::flat_buffer*>(buffer);
  const char* begin = static_cast<const char*>(b.data().data());
  if (data != begin + b.size()) return false;
  return holds_whole_reply(std::string_view(begin, b.size() + n));
}

}  // namespace

bool holds_whole_reply(std::string_view bytes) {
  const std::size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return false;
  std::string_view head = bytes.substr(0, head_end + 2);
  std::optional<std::uint64_t> length;
  for (std::size_t at = head.find("\r\n") + 2; at < head.size();) {
    const std::size_t eol = head.find("\r\n", at);
    const std::string_view line = head.substr(at, eol - at);
    at = eol + 2;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view name = line.substr(0, colon);
    if (beast::iequals(name, "transfer-encoding")) return false;
    if (!beast::iequals(name, "content-length")) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    std::uint64_t v = 0;
    auto [end, err] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (err != std::errc() || end != value.data() + value.size() || (length && *length != v)) return false;
    length = v;
  }
  return length && bytes.size() - (head_end + 4) == *length;
}

void NodeReplyHead::on_field_impl(bhttp::field name, beast::string_view, beast::string_view value, error_code&) {
  if (name == bhttp::field::content_type) content_type_.assign(value.data(), value.size());
}

std::size_t NodeReplyHead::on_body_impl(beast::string_view body, error_code&) {
  if (body_ && body_->size() < body_cap_) body_->append(body.data(), std::min(body.size(), body_cap_ - body_->size()));
  return body.size();
}

awaitable<error_code> read_reply_head(Connection& conn, bhttp::basic_parser<false>& parser) {
  for (;;) {
    // The head only: the body stays in the buffer.
    if (const error_code ec = feed(conn.buffer, parser, false)) co_return ec;
    if (parser.is_header_done()) co_return error_code{};
    // A node's head is a few hundred bytes: a small buffer (it stays with the connection).
    const auto space = conn.buffer.prepare(512);
    error_code ec;
    std::size_t n = 0;
    if (conn.stream.is_tls()) std::tie(ec, n) = co_await conn.stream.async_read_some(space, use_nothrow);
    else std::tie(ec, n) = co_await conn.reads.async_read_some(space, ReadEnds{&head_read_ends, &conn.buffer}, use_nothrow);
    conn.buffer.commit(n);
    if (ec == asio::error::eof) ec = parser.got_some() || conn.buffer.size() > 0 ? bhttp::error::partial_message : bhttp::error::end_of_stream;
    if (ec) co_return ec;
  }
}

BodyReader::BodyReader(Framing framing, std::uint64_t length) : framing_(framing), left_(length) {
  if (framing == Framing::none || (framing == Framing::length && length == 0)) state_ = State::done;
  else if (framing == Framing::chunked) state_ = State::size;  // left_: the size being read, from 0
  else state_ = State::data;
  if (framing == Framing::chunked) left_ = 0;
}

error_code BodyReader::end_of_input() {
  if (framing_ == Framing::until_close && state_ != State::done) {
    state_ = State::done;
    return {};
  }
  return state_ == State::done ? error_code{} : error_code(bhttp::error::partial_message);
}

std::size_t BodyReader::decode(char* data, std::size_t n, error_code& ec) {
  std::size_t r = 0, w = 0;  // read and write positions: w <= r, so the body moves to the front in place
  if (framing_ != Framing::chunked) {
    if (state_ != State::done) {
      std::size_t take = n;
      if (framing_ == Framing::length) {
        take = static_cast<std::size_t>(std::min<std::uint64_t>(left_, n));
        left_ -= take;
        if (left_ == 0) state_ = State::done;
      }
      r = w = take;
    }
    consumed_ = r;
    return w;
  }
  auto fail = [&](bhttp::error e) {
    ec = e;
    consumed_ = r;
    return w;
  };
  while (r < n && state_ != State::done) {
    const char c = data[r];
    // The one byte a line's end has here, then on to `next`.
    auto line_end = [&](char want, State next) {
      if (c != want) return false;
      state_ = next;
      ++r;
      return true;
    };
    switch (state_) {
      case State::size: {
        const int v = hex_value(c);
        if (v >= 0) {
          if (++size_digits_ > kSizeDigits) return fail(bhttp::error::bad_chunk);
          left_ = left_ * 16 + static_cast<std::uint64_t>(v);
          ++r;
          break;
        }
        if (size_digits_ == 0) return fail(bhttp::error::bad_chunk);
        if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::extension;
          line_bytes_ = 0;
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else {
          return fail(bhttp::error::bad_chunk);
        }
        ++r;
        break;
      }
      case State::extension:
        // Extensions mean nothing here: skipped to the line's end (a bare LF or a control byte is malformed).
        if (c == '\r') state_ = State::size_lf;
        else if (c == '\n' || (static_cast<unsigned char>(c) < 0x20 && c != '\t')) return fail(bhttp::error::bad_chunk_extension);
        else if (++line_bytes_ > kLineLimit) return fail(bhttp::error::bad_chunk_extension);
        ++r;
        break;
      case State::size_lf:
        if (c != '\n') return fail(bhttp::error::bad_chunk);
        ++r;
        size_digits_ = 0;
        if (left_ == 0) {
          state_ = State::trailer_start;
          line_bytes_ = 0;
        } else {
          state_ = State::data;
        }
        break;
      case State::data: {
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left_, n - r));
        if (w != r) std::memmove(data + w, data + r, take);
        w += take;
        r += take;
        left_ -= take;
        if (left_ == 0) state_ = State::data_cr;
        break;
      }
      case State::data_cr:
        if (!line_end('\r', State::data_lf)) return fail(bhttp::error::bad_chunk);
        break;
      case State::data_lf:
        if (!line_end('\n', State::size)) return fail(bhttp::error::bad_chunk);
        break;
      case State::trailer_start:  // a trailer field, or the empty line that ends the body
        state_ = c == '\r' ? State::last_lf : State::trailer;
        ++r;
        break;
      case State::trailer:
        if (++line_bytes_ > kLineLimit) return fail(bhttp::error::header_limit);
        if (c == '\r') state_ = State::trailer_lf;
        ++r;
        break;
      case State::trailer_lf:
        if (!line_end('\n', State::trailer_start)) return fail(bhttp::error::bad_chunk);
        break;
      case State::last_lf:
        if (!line_end('\n', State::done)) return fail(bhttp::error::bad_chunk);
        break;
      case State::done:
        break;
    }
  }
  consumed_ = r;
  return w;
}

}  // namespace hydra::http
