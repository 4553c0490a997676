#pragma once
// A node's reply as the relay reads it: the head read straight off the connection's socket and
// fed to Beast's parser (read_reply_head), then the body's framing (RFC 9112 §6: Content-Length,
// chunked, or until the node closes) undone in place, piece by piece as the bytes come
// (BodyReader). One plain read per piece instead of Beast's composed read operations and
// stream layers.
#include "http/types.hpp"

#include <boost/beast/http/basic_parser.hpp>

#include <cstddef>
#include <cstdint>

namespace hydra::http {

struct Connection;

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
