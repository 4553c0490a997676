#pragma once
// Feeding Beast's parser from a buffer the caller reads into itself (the server's requests; a
// node's reply head is read by http/reply_head.hpp): what was used is consumed, the rest stays
// for the next read.
#include "http/types.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

namespace hydra::http {

// Feeds what `buffer` holds to `parser` until it has the head (the whole message with
// `whole`). No error when the buffer simply ran out: the rest comes by reading.
template <bool isRequest>
error_code feed(beast::flat_buffer& buffer, bhttp::basic_parser<isRequest>& parser, bool whole) {
  parser.eager(whole);
  error_code ec;
  while (buffer.size() > 0 && !(whole ? parser.is_done() : parser.is_header_done())) {
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) return error_code{};
    if (ec) return ec;
    if (used == 0) break;
  }
  return error_code{};
}

}  // namespace hydra::http
