#pragma once
// A node's reply as the relay reads it: the head read straight off the connection's socket and
// parsed by Hydra (read_reply_head, http/reply_head.hpp: the status, Content-Type and framing,
// no header map), then the body's framing (RFC 9112 §6: Content-Length, chunked, or until the
// node closes) undone in place, piece by piece as the bytes come (BodyReader). One plain read
// per piece instead of Beast's composed read operations and stream layers.
#include "http/types.hpp"

#include <boost/beast/core/flat_buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace hydra::http {

struct Connection;
class ReplyHead;

// Whether `bytes` are one whole reply framed by Content-Length (or with no body), and nothing
// after it (a small reply read at once: the read that brought it may be taken as the socket's
// last bytes for now, http/drained_read.hpp). Chunked or unframed replies say no.
bool holds_whole_reply(std::string_view bytes);
bool holds_whole_reply(ReplyHead& head, std::string_view bytes);

// Reads until `head` has the reply's whole head (ReplyHead::parse), which is then taken off
// conn.buffer; what came after it stays there (the body's first bytes). The node closing first:
// bhttp::error::end_of_stream before any byte, partial_message after some, as Beast's own read
// would say; a malformed head: ReplyHead::parse's error.
awaitable<error_code> read_reply_head(Connection& conn, ReplyHead& head);

// read_reply_head in steps, for a caller that waits in its own frame:
//   HeadRead context{conn.buffer, head};
//   while ((ec = take_reply_head(conn, head)) == bhttp::error::need_more) {
//     std::tie(rec, n) = co_await read_for_head(conn, context);
//     if ((ec = head_bytes_read(conn, rec, n))) break;
//   }
struct HeadRead {
  const beast::flat_buffer& buffer;
  ReplyHead& head;
};
// The head held in conn.buffer: taken off it (none); need_more; or the head's error.
error_code take_reply_head(Connection& conn, ReplyHead& head);
// The read that brings more of the head: Asio's own operation, no frame of ours. `context`
// lives until it completes.
awaitable<std::tuple<error_code, std::size_t>> read_for_head(Connection& conn, const HeadRead& context);
// Its `n` bytes committed; the read's error as read_reply_head names it (none: read on).
error_code head_bytes_read(Connection& conn, error_code ec, std::size_t n);

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

}  // namespace hydra::http
