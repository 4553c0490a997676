// ReplyHead reads a node's reply head as Beast's parser would: the same status, framing and
// keep-alive for the same bytes, the same refusals of malformed heads.
#include "http/reply_head.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace hydra::http;
using Framing = BodyReader::Framing;

namespace {

// What Beast's response parser makes of the head at the front of `wire`.
struct BeastView {
  error_code ec;
  int status = 0;
  bool keep_alive = false, chunked = false;
  std::optional<std::uint64_t> length;
  std::size_t size = 0;
};

BeastView beast_head(const std::string& wire) {
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.eager(false);
  BeastView out;
  out.size = parser.put(boost::asio::buffer(wire), out.ec);
  if (!out.ec && parser.is_header_done()) {
    out.status = parser.get().result_int();
    out.keep_alive = parser.keep_alive();
    out.chunked = parser.chunked();
    if (parser.content_length()) out.length = *parser.content_length();
  }
  return out;
}

}  // namespace

TEST(NodeReplyHead, KeepsTheStatusTheContentTypeAndTheFramingOfAHead) {
  ReplyHead h;
  std::string wire = "HTTP/1.1 200 OK\r\nX-Other: 1\r\ncontent-type: application/x-ndjson\r\n"
                     "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello";
  ASSERT_FALSE(h.parse(wire));
  EXPECT_EQ(h.status(), 200);
  EXPECT_EQ(h.content_type(), "application/x-ndjson");
  EXPECT_TRUE(h.chunked());
  EXPECT_TRUE(h.keep_alive());
  EXPECT_EQ(h.framing(), Framing::chunked);
  EXPECT_EQ(wire.substr(h.size()), "5\r\nhello");

  ReplyHead none;
  ASSERT_FALSE(none.parse("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(none.framing(), Framing::none);
  EXPECT_FALSE(none.keep_alive());
  EXPECT_EQ(none.content_type(), "");

  ReplyHead old;
  ASSERT_FALSE(old.parse("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  EXPECT_FALSE(old.keep_alive());  // HTTP/1.0 without Connection: keep-alive
  EXPECT_EQ(old.framing(), Framing::length);
  EXPECT_EQ(old.content_length(), 2u);
  ReplyHead kept;
  ASSERT_FALSE(kept.parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok"));
  EXPECT_TRUE(kept.keep_alive());

  ReplyHead until_close;
  ASSERT_FALSE(until_close.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"));
  EXPECT_EQ(until_close.framing(), Framing::until_close);
  EXPECT_FALSE(until_close.keep_alive());

  ReplyHead head_request;
  head_request.no_body();
  ASSERT_FALSE(head_request.parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"));
  EXPECT_EQ(head_request.framing(), Framing::none);
  EXPECT_TRUE(head_request.keep_alive());
}

TEST(NodeReplyHead, AnInterimReplyIsSkippedWithItsHead) {
  ReplyHead h;
  const std::string wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  ASSERT_FALSE(h.parse(wire));
  EXPECT_EQ(h.status(), 200);
  EXPECT_EQ(wire.substr(h.size()), "ok");
  ReplyHead switched;  // 101 is the final answer, and no connection to pool afterwards
  ASSERT_FALSE(switched.parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"));
  EXPECT_EQ(switched.status(), 101);
  EXPECT_EQ(switched.framing(), Framing::none);
  EXPECT_FALSE(switched.keep_alive());
  ReplyHead waiting;
  EXPECT_EQ(waiting.parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2"), bhttp::error::need_more);
}

TEST(NodeReplyHead, AHeadInPiecesNeedsMoreUntilItsBlankLine) {
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
  const std::size_t head_size = wire.find("\r\n\r\n") + 4;
  EXPECT_EQ(ReplyHead{}.parse({}), bhttp::error::need_more);  // nothing yet (an empty buffer's view)
  for (std::size_t n = 0; n < head_size; ++n) {
    ReplyHead h;
    EXPECT_EQ(h.parse(std::string_view(wire).substr(0, n)), bhttp::error::need_more) << n;
  }
  ReplyHead h;
  ASSERT_FALSE(h.parse(std::string_view(wire).substr(0, head_size)));
  EXPECT_EQ(h.size(), head_size);
}

TEST(NodeReplyHead, TheSameBytesAgainGiveTheFirstAnswer) {
  std::string wire = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  ReplyHead h;
  ASSERT_FALSE(h.parse(wire));
  EXPECT_EQ(h.status(), 404);
  wire[9] = '5';  // same place, same size: not read again
  EXPECT_FALSE(h.parse(wire));
  EXPECT_EQ(h.status(), 404);
  std::string longer = wire + "x";  // other bytes: read again
  EXPECT_FALSE(h.parse(longer));
  EXPECT_EQ(h.status(), 504);
}

TEST(NodeReplyHead, MalformedHeadsAreRefusedWhereBeastRefusesThem) {
  const std::vector<std::pair<std::string, bhttp::error>> cases = {
      {"NOT HTTP\r\n\r\n", bhttp::error::bad_version},
      {"HTTP/2.0 200 OK\r\n\r\n", bhttp::error::bad_version},
      {"HTTP/1.1 2x0 OK\r\n\r\n", bhttp::error::bad_status},
      {"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", bhttp::error::bad_field},
      {"HTTP/1.1 200 OK\r\n: 1\r\n\r\n", bhttp::error::bad_field},
      {"HTTP/1.1 200 OK\r\nContent-Type: a\x01z\r\n\r\n", bhttp::error::bad_value},
      {"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n", bhttp::error::bad_field},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\n", bhttp::error::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", bhttp::error::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", bhttp::error::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", bhttp::error::bad_content_length},
      {"HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\n", bhttp::error::bad_line_ending},
  };
  for (const auto& [wire, want] : cases) {
    ReplyHead h;
    EXPECT_EQ(h.parse(wire), want) << wire;
    EXPECT_TRUE(beast_head(wire).ec) << "Beast accepts " << wire;
  }
  // Both framings at once: refused (Beast takes the chunked one; a proxy had better not guess).
  ReplyHead both;
  EXPECT_EQ(both.parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"),
            bhttp::error::bad_transfer_encoding);
  ReplyHead folded;  // obs-fold (RFC 9112 §5.2): a gateway may refuse it
  EXPECT_EQ(folded.parse("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), bhttp::error::bad_value);
  ReplyHead huge;
  EXPECT_EQ(huge.parse("HTTP/1.1 200 OK\r\nX: " + std::string(ReplyHead::kLimit, 'a')), bhttp::error::header_limit);
}

TEST(NodeReplyHead, RandomWellFormedHeadsReadAsBeastReadsThem) {
  std::mt19937 rng(29);
  const std::vector<std::string> names = {"Content-Type", "Date", "X-Request-Id", "Server", "Vary", "connection",
                                          "CONTENT-LENGTH", "transfer-encoding"};
  for (int round = 0; round < 2000; ++round) {
    std::string wire = rng() % 4 == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
    const int statuses[] = {200, 201, 204, 304, 400, 404, 500, 503};
    wire += std::to_string(statuses[rng() % 8]) + (rng() % 5 == 0 ? " \r\n" : " Reason Words\r\n");
    bool has_length = false, has_te = false, has_connection = false;
    const int fields = static_cast<int>(rng() % 6);
    for (int f = 0; f < fields; ++f) {
      const std::string& name = names[rng() % names.size()];
      std::string value = "v" + std::to_string(rng() % 100);
      if (name == "connection") {  // once: close and keep-alive together mean close here, not to Beast at 1.0
        if (has_connection) continue;
        has_connection = true;
        value = rng() % 2 ? "close" : "keep-alive, Upgrade";
      }
      if (name == "CONTENT-LENGTH") {
        if (has_length || has_te) continue;
        has_length = true;
        value = std::to_string(rng() % 1000);
      }
      if (name == "transfer-encoding") {
        if (has_length || has_te) continue;
        has_te = true;
        value = rng() % 3 == 0 ? "gzip" : "chunked";
      }
      wire += name + ":" + (rng() % 2 ? " " : "") + value + (rng() % 3 == 0 ? " \r\n" : "\r\n");
    }
    wire += "\r\n";
    ReplyHead h;
    const BeastView b = beast_head(wire);
    ASSERT_FALSE(b.ec) << b.ec.message() << " in " << wire;
    ASSERT_FALSE(h.parse(wire)) << wire;
    EXPECT_EQ(h.status(), b.status) << wire;
    EXPECT_EQ(h.size(), b.size) << wire;
    EXPECT_EQ(h.chunked(), b.chunked) << wire;
    EXPECT_EQ(h.content_length(), b.length) << wire;
    // Beast's keep_alive() speaks of the head alone; a body that runs until close ends the connection too.
    if (h.framing() != Framing::until_close) EXPECT_EQ(h.keep_alive(), b.keep_alive) << wire;
    else EXPECT_FALSE(h.keep_alive());
  }
}
