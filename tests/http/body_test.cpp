// Request bodies: Expect: 100-continue, the body's own progress timeout (not the header
// timeout), and a body that reaches the handler without a needless copy.
#include "http/server_fixture.hpp"

#include <atomic>

using namespace hydra;
using namespace hydra::http;
using test::count_of;
using test::RawClient;
using test::ServerFixture;

namespace {

std::string post_head(std::size_t length, std::string_view extra = "") {
  return "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " + std::to_string(length) +
         "\r\n" + std::string(extra) + "\r\n";
}

bool has_whole_reply(const std::string& r) {
  auto head_end = r.find("\r\n\r\n", r.find("200 OK"));
  if (head_end == std::string::npos) return false;
  auto cl = r.find("Content-Length: ", r.find("200 OK"));
  if (cl == std::string::npos) return false;
  return r.size() - head_end - 4 >= std::stoul(r.substr(cl + 16));
}

}  // namespace

TEST_F(ServerFixture, ExpectContinueGets100BeforeTheBodyIsSent) {
  start();
  RawClient c(ep_);
  const std::string body(2000, 'b');
  c.send(post_head(body.size(), "Expect: 100-continue\r\n"));
  // Like curl: the body goes only once the server said to go on.
  ASSERT_TRUE(c.read_until_contains("\r\n\r\n")) << c.received();
  EXPECT_EQ(c.received(), "HTTP/1.1 100 Continue\r\n\r\n");
  c.send(body);
  ASSERT_TRUE(c.read_until(has_whole_reply)) << c.received();
  EXPECT_NE(c.received().find("200 OK"), std::string::npos);
  EXPECT_NE(c.received().find(body), std::string::npos);
  EXPECT_EQ(count_of(c.received(), "100 Continue"), 1u);
}

TEST_F(ServerFixture, ExpectContinueOverTheBodyLimitIs413Directly) {
  ServerLimits limits;
  limits.body_limit = 1024;
  start(limits);
  RawClient c(ep_);
  c.send(post_head(4096, "Expect: 100-continue\r\n"));
  ASSERT_TRUE(c.read_until_contains("}")) << c.received();
  EXPECT_EQ(c.received().rfind("HTTP/1.1 413", 0), 0u) << c.received();
  EXPECT_EQ(c.received().find("100 Continue"), std::string::npos) << c.received();
  EXPECT_NE(c.received().find(R"({"error":"request body too large"})"), std::string::npos);
}

TEST_F(ServerFixture, ErrorsUnderV1AreInOpenAisShape) {
  ServerLimits limits;
  limits.body_limit = 1024;
  start(limits);
  RawClient c(ep_);
  c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(c.read_until_contains("null}}")) << c.received();
  EXPECT_EQ(c.received().rfind("HTTP/1.1 413", 0), 0u) << c.received();
  EXPECT_NE(c.received().find(R"({"error":{"message":"request body too large","type":"invalid_request_error",)"),
            std::string::npos)
      << c.received();
}

TEST_F(ServerFixture, NoContinueWithoutABodyOrTheExpectation) {
  start();
  std::string plain = raw(post_head(5) + "hello");
  EXPECT_EQ(plain.find("100 Continue"), std::string::npos) << plain;
  EXPECT_NE(plain.find("hello"), std::string::npos) << plain;
  std::string empty = raw(post_head(0, "Expect: 100-continue\r\n"));
  EXPECT_EQ(empty.rfind("HTTP/1.1 200 OK", 0), 0u) << empty;
}

TEST_F(ServerFixture, StalledBodyIs408) {
  ServerLimits limits;
  limits.body_min_rate = 10'000;  // 2,000 bytes per 200 ms window
  limits.body_window = std::chrono::milliseconds(200);
  start(limits);
  RawClient c(ep_);
  c.send(post_head(100'000) + std::string(500, 'x'));
  ASSERT_TRUE(c.read_until_contains("}")) << c.received();
  EXPECT_EQ(c.received().rfind("HTTP/1.1 408", 0), 0u) << c.received();
  EXPECT_NE(c.received().find(R"({"error":"request body arrived too slowly"})"), std::string::npos);
  EXPECT_TRUE(c.read_to_close());
}

TEST_F(ServerFixture, SteadyBodyOutlastsTheHeaderTimeout) {
  ServerLimits limits;
  limits.header_timeout = std::chrono::milliseconds(300);
  limits.body_min_rate = 10'000;
  limits.body_window = std::chrono::milliseconds(200);
  start(limits);
  RawClient c(ep_);
  constexpr std::size_t piece = 3000, pieces = 20;  // ~60 KB/s for about a second
  c.send(post_head(piece * pieces));
  for (std::size_t i = 0; i < pieces; ++i) {
    c.send(std::string(piece, static_cast<char>('a' + i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // pacing the upload, not syncing
  }
  ASSERT_TRUE(c.read_until(has_whole_reply)) << c.received().substr(0, 200);
  EXPECT_EQ(c.received().rfind("HTTP/1.1 200 OK", 0), 0u);
  EXPECT_NE(c.received().find(std::string(piece, static_cast<char>('a' + pieces - 1))), std::string::npos);
}

TEST_F(ServerFixture, TakeBodyMovesTheBodyOut) {
  std::atomic<bool> moved{false};
  std::atomic<bool> emptied{false};
  std::atomic<std::size_t> capacity{0};
  router_.add(bhttp::verb::post, "/take", [&](Exchange& ex) -> awaitable<void> {
    const char* before = ex.body().data();
    capacity = ex.body().capacity();
    std::string body = ex.take_body();
    moved = body.data() == before;
    emptied = ex.body().empty();
    co_await ex.respond(bhttp::status::ok, std::to_string(body.size()), "text/plain");
  });
  start();
  const std::size_t size = 3u << 20;
  auto r = test::post(ep_, "/take", std::string(size, 'z'));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(size));
  EXPECT_TRUE(moved.load());
  EXPECT_TRUE(emptied.load());
  // Reserved once from Content-Length, not grown by doubling (which would leave slack).
  EXPECT_EQ(capacity.load(), size);
}
