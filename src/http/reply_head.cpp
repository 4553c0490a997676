#include "http/reply_head.hpp"

#include "http/field_value.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include <charconv>

namespace hydra::http {

namespace {

using E = bhttp::error;

// Whether token `s` is `lower` (lower-case letters and '-') in any case. For tokens only: no
// tchar but '-' itself becomes '-' or a lower-case letter with bit 0x20 set.
bool is_name(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((s[i] | 0x20) != lower[i]) return false;
  return true;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `each` with every element of a comma-separated list (empty ones skipped).
template <class F>
void each_token(std::string_view list, F&& each) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = trimmed(list.substr(0, comma));
    if (!item.empty()) each(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

bool digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

error_code ReplyHead::parse(std::string_view bytes) {
  if (bytes.data() == seen_at_ && bytes.size() == seen_size_) return seen_;
  seen_at_ = bytes.data();
  seen_size_ = bytes.size();
  // Interim replies (1xx but 101) come before the reply itself: skipped with its head.
  for (std::size_t start = 0;;) {
    status_ = 0;
    minor_ = 1;
    content_type_.clear();
    length_.reset();
    chunked_ = encoded_ = close_ = keep_alive_token_ = keep_alive_ = false;
    // Not a reply at all: said as soon as its first bytes show it, whatever follows.
    const std::string_view opening = bytes.substr(start, 5);
    if (opening != std::string_view("HTTP/").substr(0, opening.size())) return seen_ = E::bad_version;
    bool first = true;
    std::size_t at = start;
    for (;;) {
      const std::size_t lf = bytes.find('\n', at);
      if (lf == std::string_view::npos) {
        if (bytes.size() > kLimit) return seen_ = E::header_limit;
        return seen_ = E::need_more;
      }
      if (lf >= kLimit) return seen_ = E::header_limit;
      if (lf == at || bytes[lf - 1] != '\r') return seen_ = E::bad_line_ending;
      const std::string_view line = bytes.substr(at, lf - 1 - at);
      at = lf + 1;
      if (first) {
        if (const error_code ec = parse_status_line(line)) return seen_ = ec;
        first = false;
        continue;
      }
      if (line.empty()) break;  // the blank line: the head is over
      if (line.front() == ' ' || line.front() == '\t') return seen_ = E::bad_value;  // obs-fold: refused
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return seen_ = E::bad_field;
      const std::string_view name = line.substr(0, colon);
      if (!token_chars(name)) return seen_ = E::bad_field;
      // (The values of fields read here are checked where read; the others are not used.)
      if (const error_code ec = field(name, trimmed(line.substr(colon + 1)))) return seen_ = ec;
    }
    if (status_ >= 100 && status_ < 200 && status_ != 101) {
      start = at;
      continue;
    }
    if (encoded_ && length_) return seen_ = E::bad_transfer_encoding;  // RFC 9112 §6.3: a smuggling sign
    size_ = at;
    keep_alive_ = framing() != BodyReader::Framing::until_close && !close_ && (minor_ >= 1 || keep_alive_token_) &&
                  status_ != 101;  // a switched protocol is no HTTP connection to pool
    return seen_ = error_code{};
  }
}

error_code ReplyHead::parse_status_line(std::string_view line) {
  // HTTP/1.x SP 3DIGIT [SP reason-phrase]
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !digit(line[5]) || line[6] != '.' || !digit(line[7]))
    return E::bad_version;
  if (line[5] != '1') return E::bad_version;
  minor_ = line[7] - '0';
  if (line[8] != ' ') return E::bad_version;
  if (!digit(line[9]) || !digit(line[10]) || !digit(line[11]) || line[9] == '0') return E::bad_status;
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (line.size() > 12 && (line[12] != ' ' || !field_value_safe(line.substr(13)))) return E::bad_reason;
  return {};
}

error_code ReplyHead::field(std::string_view name, std::string_view value) {
  switch (name.size()) {
    case 10:  // Connection
      if (is_name(name, "connection"))
        each_token(value, [&](std::string_view t) {
          if (beast::iequals(t, "close")) close_ = true;
          else if (beast::iequals(t, "keep-alive")) keep_alive_token_ = true;
        });
      return {};
    case 12:  // Content-Type: goes on to the client
      if (!is_name(name, "content-type")) return {};
      if (!field_value_safe(value)) return E::bad_value;
      content_type_.assign(value);
      return {};
    case 14: {  // Content-Length: digits only; repeated, the same number
      if (!is_name(name, "content-length")) return {};
      std::uint64_t n = 0;
      const auto [end, err] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || !digit(value.front()) || err != std::errc() || end != value.data() + value.size() ||
          (length_ && *length_ != n))
        return E::bad_content_length;
      length_ = n;
      return {};
    }
    case 17:  // Transfer-Encoding: chunked frames the body only as the last coding
      if (is_name(name, "transfer-encoding")) {
        encoded_ = true;
        each_token(value, [&](std::string_view t) { chunked_ = beast::iequals(t, "chunked"); });
      }
      return {};
    default:
      return {};
  }
}

BodyReader::Framing ReplyHead::framing() const {
  if (no_body_ || status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200)) return BodyReader::Framing::none;
  if (chunked_) return BodyReader::Framing::chunked;
  if (encoded_ || !length_) return BodyReader::Framing::until_close;
  return BodyReader::Framing::length;
}

}  // namespace hydra::http
