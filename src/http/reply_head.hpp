#pragma once
// A node's reply head (RFC 9112 §4-6), read by Hydra itself: the status, Content-Type, and what
// frames the body (Content-Length, Transfer-Encoding, Connection). Nothing else of the head is
// kept: no header map, no allocation but Content-Type's. Once per attempt on the data path,
// where Beast's parser took about 3,600 instructions for a two-field head. Where it differs
// from Beast's: any Transfer-Encoding with a Content-Length is refused (a smuggling sign), not
// only chunked; HTTP/1.2-1.9 are read as 1.1; the head may be 64 KiB (Beast's default: 8);
// obs-fold is refused; only the fields read here have their values checked.
#include "http/body_reader.hpp"
#include "http/types.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::http {

class ReplyHead {
public:
  // Refused beyond this (bhttp::error::header_limit): nodes send a few hundred bytes.
  static constexpr std::size_t kLimit = 64u << 10;

  // The reply answers a HEAD request: no body follows, whatever the head says of one.
  void no_body() { no_body_ = true; }

  // Parses the head at the front of `bytes` (a reply as read so far). bhttp::error::need_more
  // until the blank line that ends it has come; an error of bhttp::error for a malformed head
  // (bad_version, bad_status, bad_field, bad_value, bad_content_length, bad_transfer_encoding,
  // bad_line_ending, header_limit); else none, and the facts below are set. The same bytes
  // again (same place, same size) give the first answer without parsing them again: a read's
  // test parses the head where it decides (head_read_ends), its caller reads the result.
  error_code parse(std::string_view bytes);

  // Once parse() said none:
  std::size_t size() const { return size_; }  // of the head, its blank line included
  int status() const { return status_; }
  std::string& content_type() { return content_type_; }
  const std::optional<std::uint64_t>& content_length() const { return length_; }
  bool chunked() const { return chunked_; }
  // Whether the connection may carry another request after this reply.
  bool keep_alive() const { return keep_alive_; }
  BodyReader::Framing framing() const;

private:
  error_code parse_status_line(std::string_view line);
  error_code field(std::string_view name, std::string_view value);

  bool no_body_ = false;
  const char* seen_at_ = nullptr;  // the bytes the last parse() read (none yet), and its answer
  std::size_t seen_size_ = static_cast<std::size_t>(-1);
  error_code seen_;
  std::size_t size_ = 0;
  int status_ = 0;
  int minor_ = 1;  // HTTP/1.minor
  std::string content_type_;
  std::optional<std::uint64_t> length_;
  bool chunked_ = false, encoded_ = false;  // Transfer-Encoding: ends with chunked; present at all
  bool close_ = false, keep_alive_token_ = false, keep_alive_ = false;
};

}  // namespace hydra::http
