// Request framing a hostile or careless client sends: each refused with a 400 (or 431), and a
// request smuggled behind it never runs.
#include "http/server_fixture.hpp"

#include <atomic>

using namespace hydra;
using namespace hydra::http;
using test::count_of;
using test::RawClient;
using test::ServerFixture;

namespace {

class Framing : public ServerFixture {
protected:
  void start(ServerLimits limits = {}) {
    router_.add(bhttp::verb::get, "/smuggled", [this](Exchange& ex) -> awaitable<void> {
      ++smuggled_;
      co_await ex.respond(bhttp::status::ok, "SMUGGLED", "text/plain");
    });
    ServerFixture::start(limits);
  }
  // A POST whose body is a second request, framed by `transfer_encoding`.
  std::string smuggle(const std::string& transfer_encoding) {
    return raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + transfer_encoding +
               "\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  std::atomic<int> smuggled_{0};
};

}  // namespace

TEST_F(Framing, TransferCodingsOtherThanChunkedAre400AndTheBodyNeverRuns) {
  start();
  for (std::string te : {"gzip", "identity", "chunked, gzip", "gzip, chunked", "chunked, chunked",
                         "chunked;x=1", "xchunked"}) {
    std::string reply = smuggle(te);
    EXPECT_EQ(reply.rfind("HTTP/1.1 400 Bad Request", 0), 0u) << te << ": " << reply;
    EXPECT_NE(reply.find("Transfer-Encoding"), std::string::npos) << te << ": " << reply;
    EXPECT_EQ(reply.find("SMUGGLED"), std::string::npos) << te << ": " << reply;
    EXPECT_EQ(count_of(reply, "HTTP/1.1 "), 1u) << te << ": " << reply;
  }
  EXPECT_EQ(smuggled_.load(), 0);
}

TEST_F(Framing, ChunkedBodiesStillWork) {
  start();
  for (std::string te : {"chunked", "Chunked", " chunked "}) {
    std::string reply = raw("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding:" + te +
                            "\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK", 0), 0u) << te << ": " << reply;
    EXPECT_NE(reply.find("\r\n\r\nhello"), std::string::npos) << reply;
  }
}

TEST_F(Framing, TransferEncodingInHttp10Is400) {
  start();
  std::string reply = raw("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_NE(reply.find("400 Bad Request"), std::string::npos) << reply;
}

TEST_F(Framing, Http11WithoutHostIs400) {
  start();
  std::string reply = raw("GET / HTTP/1.1\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 400 Bad Request", 0), 0u) << reply;
  EXPECT_NE(reply.find("Host"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("hello"), std::string::npos) << reply;
  EXPECT_EQ(smuggled_.load(), 0);
  // Two Host headers are as bad; HTTP/1.0 may leave it out.
  EXPECT_NE(raw("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").find("400 Bad Request"), std::string::npos);
  std::string old = raw("GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(old.find("200 OK"), std::string::npos) << old;
  EXPECT_NE(old.find("hello"), std::string::npos) << old;
}

// Requests that arrive together in one write are read from the buffer (the plain form, without
// Beast's parser): each is answered in turn, and the framing rules hold for the second as for
// the first.
TEST_F(Framing, PipelinedRequestsAreEachReadAndCheckedInTurn) {
  start();
  std::string reply = raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                          "POST /echo HTTP/1.1\r\nHost: x\r\ncontent-length: 3\r\n\r\nabc"
                          "GET /smuggled HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
                          "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(count_of(reply, "HTTP/1.1 200 OK"), 2u) << reply;
  const auto hello = reply.find("\r\n\r\nhello"), abc = reply.find("\r\n\r\nabc"), refused = reply.find("400 Bad Request");
  ASSERT_NE(hello, std::string::npos) << reply;
  ASSERT_NE(abc, std::string::npos) << reply;
  ASSERT_NE(refused, std::string::npos) << reply;
  EXPECT_LT(hello, abc);
  EXPECT_LT(abc, refused);
  EXPECT_NE(reply.find("Host", refused), std::string::npos) << reply;
  EXPECT_EQ(reply.find("SMUGGLED"), std::string::npos) << reply;  // nothing after the refusal runs
  EXPECT_EQ(smuggled_.load(), 0);
}

TEST_F(Framing, DuplicateLengthsOrCodingsAre400) {
  start();
  std::string cl = raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_NE(cl.find("400 Bad Request"), std::string::npos) << cl;
  std::string cl2 = raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
  EXPECT_NE(cl2.find("400 Bad Request"), std::string::npos) << cl2;
  std::string te = raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "0\r\n\r\n");
  EXPECT_NE(te.find("400 Bad Request"), std::string::npos) << te;
}

TEST_F(Framing, ChunkSizeOverflowIs400) {
  start();
  std::string reply = raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "fffffffffffffffffff1\r\nhello\r\n0\r\n\r\n");
  EXPECT_NE(reply.find("400 Bad Request"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("200 OK"), std::string::npos) << reply;
}

TEST_F(Framing, MalformedRequestLinesAre400) {
  start();
  for (std::string line : {"GET / HTTP/1.1 extra", "GET  / HTTP/1.1", "GET / HTTQ/1.1", "G(T / HTTP/1.1"}) {
    std::string reply = raw(line + "\r\nHost: x\r\n\r\n");
    EXPECT_NE(reply.find("400 Bad Request"), std::string::npos) << line << ": " << reply;
  }
}

TEST_F(Framing, HugeOrManyHeadersAre431) {
  ServerLimits limits;
  limits.header_limit = 8192;
  start(limits);
  std::string huge = raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_NE(huge.find("431"), std::string::npos) << huge.substr(0, 200);
  std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 2000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  std::string reply = raw(many + "\r\n");
  EXPECT_NE(reply.find("431"), std::string::npos) << reply.substr(0, 200);
}

TEST_F(Framing, SlowlorisHeadersAreCutAtTheHeaderTimeout) {
  ServerLimits limits;
  limits.header_timeout = std::chrono::milliseconds(300);
  start(limits);
  RawClient c(ep_);
  c.send("GET / HTTP/1.1\r\nHost: x\r\n");
  // A header line every 50 ms keeps bytes flowing, but the head as a whole must arrive in time.
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    c.send("X-Drip-" + std::to_string(i) + ": 1\r\n");
    closed = c.read_to_close(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(c.received().find("200 OK"), std::string::npos) << c.received();
  // The client is told why before the connection closes.
  EXPECT_EQ(c.received().rfind("HTTP/1.1 408", 0), 0u) << c.received();
}
