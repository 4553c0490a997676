// BodyReader undoes a reply body's framing in place, whatever pieces the bytes arrive in; what
// it makes of random chunked bodies is checked against Beast's own parser.
#include "http/body_reader.hpp"

#include "http/client.hpp"
#include "http/reply_head.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace hydra::http;
using Framing = BodyReader::Framing;

namespace {

struct Decoded {
  std::string body;
  std::string after;  // bytes after the body's end
  error_code ec;
  bool done = false;
};

// Feeds `wire` in pieces cut at `cuts`, as reads off a socket would bring them.
Decoded decode(BodyReader reader, std::string wire, const std::vector<std::size_t>& cuts, bool eof = false) {
  Decoded out;
  std::size_t at = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(wire.size());
  for (std::size_t end : ends) {
    if (end <= at || out.ec) continue;
    std::string piece = wire.substr(at, end - at);
    const std::size_t got = reader.decode(piece.data(), piece.size(), out.ec);
    out.body.append(piece.data(), got);
    if (reader.done() || out.ec) out.after += piece.substr(reader.consumed());
    at = end;
    if (reader.done()) {
      out.after += wire.substr(at);
      break;
    }
  }
  if (eof && !out.ec) out.ec = reader.end_of_input();
  out.done = reader.done();
  return out;
}

std::vector<std::size_t> random_cuts(std::mt19937& rng, std::size_t size) {
  std::vector<std::size_t> cuts;
  std::uniform_int_distribution<std::size_t> step(1, 9);
  for (std::size_t at = step(rng); at < size; at += step(rng) * (rng() % 4 == 0 ? 7 : 1)) cuts.push_back(at);
  return cuts;
}

// What Beast's parser makes of the same reply (head added), and whether it accepts it.
std::pair<bool, std::string> beast_body(const std::string& body_wire) {
  std::string reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body_wire;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.eager(true);
  error_code ec;
  parser.put(boost::asio::buffer(reply), ec);
  return {!ec && parser.is_done(), parser.get().body()};
}

}  // namespace

TEST(BodyReader, ChunkedBodiesInAnyPiecesComeOutAsBeastReadsThem) {
  std::mt19937 rng(17);
  for (int round = 0; round < 3000; ++round) {
    std::string wire, expected;
    const int chunks = static_cast<int>(rng() % 6);
    for (int c = 0; c < chunks; ++c) {
      std::string data(1 + rng() % 40, 'x');
      for (auto& ch : data) ch = static_cast<char>(' ' + rng() % 90);
      char size[32];
      std::snprintf(size, sizeof size, rng() % 2 ? "%zx" : "%zX", data.size());
      wire += size;
      if (rng() % 5 == 0) wire += ";ext=\"v\"";
      wire += "\r\n" + data + "\r\n";
      expected += data;
    }
    wire += "0\r\n";
    if (rng() % 4 == 0) wire += "X-Trailer: 1\r\n";
    wire += "\r\n";
    const std::string after = rng() % 3 == 0 ? "HTTP/1.1 200 OK\r\n" : "";
    Decoded d = decode(BodyReader(Framing::chunked), wire + after, random_cuts(rng, wire.size() + after.size()));
    ASSERT_FALSE(d.ec) << d.ec.message() << " in " << wire;
    ASSERT_TRUE(d.done) << wire;
    EXPECT_EQ(d.body, expected);
    EXPECT_EQ(d.after, after);
    auto [ok, body] = beast_body(wire);
    ASSERT_TRUE(ok) << wire;
    EXPECT_EQ(body, expected);
  }
}

TEST(BodyReader, MalformedChunksAreErrorsWhereBeastRefusesThemToo) {
  for (std::string wire : {std::string("zz\r\nabc\r\n0\r\n\r\n"), std::string("3\r\nabcX\r\n0\r\n\r\n"),
                           std::string("3\nabc\r\n0\r\n\r\n"), std::string("\r\n"), std::string("3\r\nabc\r\n0\n\r\n")}) {
    std::mt19937 rng(3);
    Decoded d = decode(BodyReader(Framing::chunked), wire, random_cuts(rng, wire.size()));
    EXPECT_TRUE(d.ec == bhttp::error::bad_chunk || d.ec == bhttp::error::bad_chunk_extension) << wire << ": " << d.ec.message();
    EXPECT_FALSE(d.done) << wire;
    EXPECT_FALSE(beast_body(wire).first) << wire;
  }
  Decoded huge = decode(BodyReader(Framing::chunked), "1000000000000000\r\n", {});
  EXPECT_EQ(huge.ec, bhttp::error::bad_chunk);
}

TEST(BodyReader, AClosedConnectionEndsOnlyABodyThatRunsUntilClose) {
  Decoded cut = decode(BodyReader(Framing::chunked), "5\r\nhel", {2}, true);
  EXPECT_EQ(cut.ec, bhttp::error::partial_message);
  EXPECT_EQ(cut.body, "hel");

  Decoded short_length = decode(BodyReader(Framing::length, 10), "hello", {3}, true);
  EXPECT_EQ(short_length.ec, bhttp::error::partial_message);

  Decoded until_close = decode(BodyReader(Framing::until_close), "hello world", {4, 6}, true);
  EXPECT_FALSE(until_close.ec);
  EXPECT_TRUE(until_close.done);
  EXPECT_EQ(until_close.body, "hello world");
  EXPECT_FALSE(BodyReader(Framing::until_close).reusable());
}

TEST(BodyReader, ALengthBodyStopsAtItsLengthAndLeavesWhatFollows) {
  Decoded d = decode(BodyReader(Framing::length, 5), "helloEXTRA", {2, 7});
  EXPECT_FALSE(d.ec);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "hello");
  EXPECT_EQ(d.after, "EXTRA");
  EXPECT_TRUE(BodyReader(Framing::none).done());
  EXPECT_TRUE(BodyReader(Framing::length, 0).done());
  EXPECT_FALSE(BodyReader(Framing::none).end_of_input());
}

namespace {

// What read_reply_head makes of `wire`, sent by a peer that then closes (when `close`).
struct HeadReadOut {
  error_code ec;
  int status = 0;
  std::string held;  // what stayed in the connection's buffer: the body's first bytes
};

HeadReadOut read_head_of(const std::vector<std::string>& pieces, bool close) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  Connection conn(io.get_executor());
  conn.stream.socket().connect(acceptor.local_endpoint());
  tcp::socket peer = acceptor.accept();
  for (const auto& p : pieces) boost::asio::write(peer, boost::asio::buffer(p));
  if (close) peer.close();
  HeadReadOut out;
  ReplyHead head;
  boost::asio::co_spawn(io, [&]() -> awaitable<void> {
    out.ec = co_await read_reply_head(conn, head);
    if (!out.ec) out.status = head.status();
    out.held.assign(static_cast<const char*>(conn.buffer.data().data()), conn.buffer.size());
  }, [&](std::exception_ptr e) { if (e) out.ec = make_error_code(boost::system::errc::io_error); });
  io.run_for(std::chrono::seconds(5));
  return out;
}

}  // namespace

TEST(ReadReplyHead, TheHeadIsParsedAndTheBodysFirstBytesStayInTheBuffer) {
  HeadReadOut r = read_head_of({"HTTP/1.1 200 OK\r\nContent-Le", "ngth: 5\r\n\r\nhel"}, false);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.held, "hel");
}

TEST(ReadReplyHead, AWholeReplyReadAtOnceIsParsedWithItsBodyLeftInTheBuffer) {
  // The read's test parses the head where it decides; the result is the same as in pieces.
  HeadReadOut r = read_head_of({"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"}, false);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.held, "ok");
}

TEST(ReadReplyHead, ANodeThatClosesSaysEndOfStreamBeforeAnyByteAndPartialMessageAfter) {
  EXPECT_EQ(read_head_of({}, true).ec, bhttp::error::end_of_stream);
  EXPECT_EQ(read_head_of({"HTTP/1.1 200 OK\r\n"}, true).ec, bhttp::error::partial_message);
  EXPECT_EQ(read_head_of({"NOT HTTP\r\n\r\n"}, false).ec, bhttp::error::bad_version);
}

// What makes a node's reply head read, or a body read, the socket's last bytes for now
// (http/drained_read.hpp): only a whole reply of known length, nothing more, nothing less.
TEST(WholeReply, OnlyAWholeReplyOfKnownLengthCounts) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-LENGTH:  7 \r\n\r\n";
  EXPECT_TRUE(holds_whole_reply(head + "{\"a\":1}"));
  EXPECT_FALSE(holds_whole_reply(head + "{\"a\":"));          // more to come
  EXPECT_FALSE(holds_whole_reply(head + "{\"a\":1}HTTP/1.1"));  // something after it
  EXPECT_FALSE(holds_whole_reply(head.substr(0, head.size() - 2)));  // the head is not over
  EXPECT_FALSE(holds_whole_reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  EXPECT_FALSE(holds_whole_reply("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close"));
  EXPECT_FALSE(holds_whole_reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"));
  EXPECT_FALSE(holds_whole_reply("HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok"));
  EXPECT_TRUE(holds_whole_reply("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_TRUE(holds_whole_reply("HTTP/1.1 304 Not Modified\r\n\r\n"));
  EXPECT_FALSE(holds_whole_reply("HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1"));
}

TEST(WholeReply, ABodyOfKnownLengthEndsWithExactlyItsRest) {
  BodyReader body(Framing::length, 10);
  EXPECT_FALSE(body.ends_after(4));
  EXPECT_TRUE(body.ends_after(10));
  std::string first = "0123";
  error_code ec;
  body.decode(first.data(), first.size(), ec);
  EXPECT_TRUE(BodyReader::read_ends(&body, nullptr, 6));
  EXPECT_FALSE(BodyReader::read_ends(&body, nullptr, 5));
  BodyReader chunked(Framing::chunked);
  EXPECT_FALSE(chunked.ends_after(5));  // the end of a chunked body is not counted on
}
