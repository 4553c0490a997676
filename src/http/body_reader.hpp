#pragma once
// A node's reply as the relay reads it: the head read straight off the connection's socket and
// fed to Beast's parser (read_reply_head; NodeReplyHead keeps of it what the relay uses,
// without a header map), then the body's framing (RFC 9112 §6: Content-Length, chunked, or
// until the node closes) undone in place, piece by piece as the bytes come (BodyReader). One
// plain read per piece instead of Beast's composed read operations and stream layers.
#include "http/types.hpp"

#include <boost/beast/http/basic_parser.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace hydra::http {

struct Connection;

// Beast's parser keeping of a node's reply head only the status and Content-Type (the framing,
// keep-alive and completeness are basic_parser's own: chunked(), content_length(), keep_alive(),
// is_done()): no header map, no allocation per field. A body read through it (the error reply
// the relay keeps) is appended to the string given to collect_body(), up to its cap; the rest
// is read and dropped.
class NodeReplyHead : public bhttp::basic_parser<false> {
public:
  int status() const { return status_; }
  std::string& content_type() { return content_type_; }
  void collect_body(std::string* out, std::size_t cap) {
    body_ = out;
    body_cap_ = cap;
  }

private:
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int, error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, error_code&) override { status_ = code; }
  void on_field_impl(bhttp::field name, beast::string_view, beast::string_view value, error_code&) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, error_code&) override;
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code& ec) override {
    return on_body_impl(body, ec);
  }
  void on_finish_impl(error_code&) override {}

  int status_ = 0;
  std::string content_type_;
  std::string* body_ = nullptr;
  std::size_t body_cap_ = 0;
};

// Whether `bytes` are one whole reply framed by Content-Length, and nothing after it (a small
// reply read at once: the read that brought it may be taken as the socket's last bytes for now,
// http/drained_read.hpp). Chunked or unframed replies say no.
bool holds_whole_reply(std::string_view bytes);

// Reads until `parser` has the reply's whole head; what came after it stays in conn.buffer (the
// body's first bytes). The node closing first: bhttp::error::end_of_stream before any byte,
// partial_message after some, as Beast's own read would say.
awaitable<error_code> read_reply_head(Connection& conn, bhttp::basic_parser<false>& parser);

class BodyReader {
public:
  enum class Framing { none, length, chunked, until_close };

  // `length`: Framing::length's Content-Length.
  explicit BodyReader(Framing framing, std::uint64_t length = 0);

  // Undoes the framing of the next `n` bytes off the wire at `data`: the body's bytes among them
  // are moved to the front of `data` and their count returned. Bytes after the body's end are
  // not touched; `consumed()` says where they begin (what follows a complete body). Sets `ec`
  // (bhttp::error::bad_chunk, bad_chunk_extension, header_limit) on a malformed body.
  std::size_t decode(char* data, std::size_t n, error_code& ec);
  // The node closed the connection: the end of an until-close body, else a partial message.
  error_code end_of_input();

  bool done() const { return state_ == State::done; }
  // Bytes of the last decode() read as part of the body (the rest came after it).
  std::size_t consumed() const { return consumed_; }
  // Whether the connection may carry another request once the body is done.
  bool reusable() const { return framing_ != Framing::until_close; }
  // Whether the next `n` bytes end a body of known length. As a ReadEnds test (context: the
  // reader): a read that brings exactly the rest is taken as the socket's last bytes for now.
  bool ends_after(std::size_t n) const { return framing_ == Framing::length && state_ == State::data && left_ == n; }
  static bool read_ends(const void* reader, const char*, std::size_t n) {
    return static_cast<const BodyReader*>(reader)->ends_after(n);
  }

private:
  enum class State { size, extension, size_lf, data, data_cr, data_lf, trailer_start, trailer, trailer_lf, last_lf, done };
  Framing framing_;
  State state_;
  std::uint64_t left_ = 0;    // Content-Length left; in a chunk, its bytes left; the size being read
  std::size_t size_digits_ = 0;
  std::size_t line_bytes_ = 0;  // of the chunk-size line's extension, or the trailer so far
  std::size_t consumed_ = 0;
};

// The framing of a reply whose head Beast has read (`is_done`: the head says there is no body).
inline BodyReader::Framing framing_of(bool is_done, bool chunked, bool has_length) {
  if (is_done) return BodyReader::Framing::none;
  if (chunked) return BodyReader::Framing::chunked;
  return has_length ? BodyReader::Framing::length : BodyReader::Framing::until_close;
}

}  // namespace hydra::http
