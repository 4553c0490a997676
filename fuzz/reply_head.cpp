// Fuzz target: a node's reply head as the relay reads it (src/http/reply_head.cpp), the bytes
// arriving in pieces as reads bring them. Checks what the relay relies on: a head, once parsed,
// lies within the bytes; more bytes never turn a parsed head into another one or an error; an
// error stays an error; the same bytes again give the same answer.
//
// Input: byte 0 picks the size of the pieces (bits 0-5, plus one) and whether the reply
// answers a HEAD request (bit 6); the rest is what the node sent.
#include "http/reply_head.hpp"

#include <boost/beast/http/error.hpp>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = (data[0] & 63) + 1;
  const bool head_request = (data[0] & 64) != 0;
  const std::string wire(reinterpret_cast<const char*>(data + 1), size - 1);
  namespace bhttp = boost::beast::http;
  using hydra::http::ReplyHead;

  ReplyHead whole;
  if (head_request) whole.no_body();
  const auto answer = whole.parse(wire);
  {  // the same bytes elsewhere, read afresh: the same answer
    const std::string copy = wire;
    ReplyHead again;
    if (head_request) again.no_body();
    check(again.parse(copy) == answer);
  }

  // In pieces, as a buffer that grows (a copy per step: each read may move the buffer).
  std::string buffer;
  ReplyHead h;
  if (head_request) h.no_body();
  for (std::size_t at = 0; at < wire.size();) {
    const std::size_t n = std::min(piece, wire.size() - at);
    buffer.append(wire, at, n);
    at += n;
    const std::string seen = buffer;
    const auto ec = h.parse(seen);
    if (ec == bhttp::error::need_more) continue;
    if (ec) {
      check(ec == answer);  // what refused a prefix refuses the whole
      return 0;
    }
    check(!answer);
    check(h.size() <= seen.size());
    check(h.size() == whole.size() && h.status() == whole.status());
    check(h.framing() == whole.framing() && h.keep_alive() == whole.keep_alive());
    check(h.content_length() == whole.content_length() && h.content_type() == whole.content_type());
    check(h.status() >= 100 && h.status() <= 999);
    return 0;
  }
  check(answer == bhttp::error::need_more);  // every prefix wanted more, the whole too
  return 0;
}
