#include "http/body_reader.hpp"

#include "http/client.hpp"
#include "http/reply_head.hpp"

#include <boost/beast/http/error.hpp>
#include <algorithm>
#include <cstring>

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

// ReadEnds for a reply head's read into a connection's buffer: what the buffer held before and
// the bytes just read (right after it) are one whole reply. The head is parsed here, where the
// read decides; read_reply_head then finds it parsed.
bool head_read_ends(const void* context, const char* data, std::size_t n) {
  const auto& read = *static_cast<const HeadRead*>(context);
  const char* begin = static_cast<const char*>(read.buffer.data().data());
  if (data != begin + read.buffer.size()) return false;
  return holds_whole_reply(read.head, std::string_view(begin, read.buffer.size() + n));
}

}  // namespace

bool holds_whole_reply(ReplyHead& head, std::string_view bytes) {
  if (head.parse(bytes)) return false;
  const std::size_t rest = bytes.size() - head.size();
  switch (head.framing()) {
    case BodyReader::Framing::none: return rest == 0;
    case BodyReader::Framing::length: return rest == *head.content_length();
    default: return false;
  }
}

bool holds_whole_reply(std::string_view bytes) {
  ReplyHead head;
  return holds_whole_reply(head, bytes);
}

error_code take_reply_head(Connection& conn, ReplyHead& head) {
  const auto held = conn.buffer.data();
  const error_code ec = head.parse(std::string_view(static_cast<const char*>(held.data()), held.size()));
  if (!ec) conn.buffer.consume(head.size());  // the body's first bytes stay
  return ec;
}

awaitable<std::tuple<error_code, std::size_t>> read_for_head(Connection& conn, const HeadRead& context) {
  // A node's head is a few hundred bytes: a small buffer (it stays with the connection).
  const auto space = conn.buffer.prepare(512);
  if (conn.stream.is_tls()) return conn.stream.async_read_some(space, use_nothrow);
  return conn.reads.async_read_some(space, ReadEnds{&head_read_ends, &context}, use_nothrow);
}

error_code head_bytes_read(Connection& conn, error_code ec, std::size_t n) {
  conn.buffer.commit(n);
  if (ec == asio::error::eof) ec = conn.buffer.size() > 0 ? bhttp::error::partial_message : bhttp::error::end_of_stream;
  return ec;
}

awaitable<error_code> read_reply_head(Connection& conn, ReplyHead& head) {
  const HeadRead context{conn.buffer, head};
  error_code ec;
  while ((ec = take_reply_head(conn, head)) == bhttp::error::need_more) {
    error_code rec;
    std::size_t n = 0;
    std::tie(rec, n) = co_await read_for_head(conn, context);
    if ((ec = head_bytes_read(conn, rec, n))) break;
  }
  co_return ec;
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
