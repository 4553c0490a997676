#include "http/server_fixture.hpp"

using namespace hydra;
using namespace hydra::http;
using test::ServerFixture;

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
