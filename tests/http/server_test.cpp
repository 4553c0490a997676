#include "http/router.hpp"
#include "http/server.hpp"
#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <thread>

using namespace hydra;
using namespace hydra::http;

namespace {

// A server with a tiny router on a background thread.
class ServerFixture : public ::testing::Test {
protected:
  void start(ServerLimits limits = {}) {
    router_.add({bhttp::verb::get, bhttp::verb::head}, "/", [](Exchange& ex) -> awaitable<void> {
      co_await ex.respond(bhttp::status::ok, "hello", "text/plain");
    });
    router_.add(bhttp::verb::post, "/echo", [](Exchange& ex) -> awaitable<void> {
      co_await ex.respond(bhttp::status::ok, ex.body(), "text/plain");
    });
    router_.add(bhttp::verb::get, "/stream", [](Exchange& ex) -> awaitable<void> {
      if (co_await ex.begin_stream(bhttp::status::ok, "application/x-ndjson")) co_return;
      for (int i = 0; i < 3; ++i)
        if (co_await ex.send_chunk("{\"i\":" + std::to_string(i) + "}\n")) co_return;
      co_await ex.end_stream();
    });
    server_ = std::make_unique<Server>(ioc_.get_executor(), router_.handler(), limits);
    ep_ = server_->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)).value();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  // Sends raw bytes and returns everything the server answers until it closes.
  std::string raw(const std::string& bytes) {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(ep_);
    asio::write(s, asio::buffer(bytes));
    std::string out;
    char buf[4096];
    boost::system::error_code ec;
    timeval tv{5, 0};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < 1000; ++i) {
      size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }

  asio::io_context ioc_;
  Router router_;
  std::unique_ptr<Server> server_;
  tcp::endpoint ep_;
  std::thread thread_;
};

}  // namespace

TEST_F(ServerFixture, RoutesAnswersAndUnknownPaths) {
  start();
  auto r = test::get(ep_, "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(test::post(ep_, "/echo", "{\"a\":1}").body, "{\"a\":1}");
  EXPECT_EQ(test::get(ep_, "/missing").status, 404);
  EXPECT_EQ(test::get(ep_, "/echo").status, 405);
}

TEST_F(ServerFixture, HeadHasLengthButNoBody) {
  start();
  test::HttpCall c;
  c.method = "HEAD";
  auto r = test::request(ep_, c);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], "5");
  EXPECT_TRUE(r.body.empty());
}

TEST_F(ServerFixture, StreamsChunkedPieces) {
  start();
  int pieces = 0;
  test::HttpCall c;
  c.target = "/stream";
  c.on_data = [&](std::string_view) { ++pieces; return true; };
  auto r = test::request(ep_, c);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(r.body, "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n");
  EXPECT_TRUE(r.complete);
  EXPECT_GE(pieces, 1);
}

TEST_F(ServerFixture, BodyOverTheLimitIs413InOllamaShape) {
  ServerLimits limits;
  limits.body_limit = 1024;
  start(limits);
  auto r = test::post(ep_, "/echo", std::string(4096, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, R"({"error":"request body too large"})");
}

TEST_F(ServerFixture, AmbiguousFramingIsRefused) {
  start();
  std::string reply = raw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n");
  EXPECT_NE(reply.find("400 Bad Request"), std::string::npos) << reply;
  EXPECT_NE(reply.find("malformed request"), std::string::npos);
}

TEST_F(ServerFixture, GarbageIs400) {
  start();
  std::string reply = raw("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_NE(reply.find("400"), std::string::npos) << reply;
}

TEST_F(ServerFixture, KeepAliveCarriesSeveralRequests) {
  start();
  std::string reply = raw("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t first = reply.find("hello");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(reply.find("hello", first + 1), std::string::npos);
}

TEST_F(ServerFixture, StopListeningRefusesNewConnections) {
  start();
  EXPECT_EQ(test::get(ep_, "/").status, 200);
  asio::post(ioc_, [this] { server_->stop_listening(); });
  EXPECT_TRUE(test::wait_for([&] { return test::get(ep_, "/").status == 0; }, std::chrono::seconds(5)));
}

TEST(ParseEndpoint, HostPortForms) {
  EXPECT_EQ(parse_endpoint("127.0.0.1:8001").value().port(), 8001);
  EXPECT_EQ(parse_endpoint("localhost:0").value().address().to_string(), "127.0.0.1");
  EXPECT_TRUE(parse_endpoint("[::1]:80").value().address().is_v6());
  EXPECT_FALSE(parse_endpoint("nope"));
  EXPECT_FALSE(parse_endpoint("1.2.3.4:99999"));
  EXPECT_FALSE(parse_endpoint("not-an-ip:80"));
}
