// The heads the data path writes as text (no header map, no serializer): a request to a node
// (write_request_head) and a streamed reply (Exchange::begin_stream). Each is read back with
// Beast's own parser, so a malformed head fails here, not at a node or a client.
#include "http/client.hpp"
#include "http/server_fixture.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

using namespace hydra;
using namespace hydra::http;
using test::ServerFixture;

namespace {

// Feeds `text` to `parser` whole (a put() stops after the head), then the end of the input.
template <class Parser>
boost::system::error_code feed(Parser& parser, std::string_view text) {
  boost::system::error_code ec;
  for (int i = 0; i < 8 && !ec && !text.empty() && !parser.is_done(); ++i)
    text.remove_prefix(parser.put(asio::buffer(text.data(), text.size()), ec));
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  return ec;
}

// Parses `text` as one whole request (head, then `body`).
bhttp::request<bhttp::string_body> parse_request(const std::string& text) {
  bhttp::request_parser<bhttp::string_body> parser;
  boost::system::error_code ec = feed(parser, text);
  EXPECT_FALSE(ec) << ec.message() << " in:\n" << text;
  EXPECT_TRUE(parser.is_done()) << text;
  return parser.release();
}

int count(const std::string& text, const std::string& part) {
  int n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(RequestHead, CarriesTheHeadersHostAndTheBodyLength) {
  FieldList headers;
  headers.set("X-Request-Id", "abc123");
  headers.set(bhttp::field::content_type, "application/json");
  headers.set(bhttp::field::host, "client.example");   // replaced by the node's
  headers.set(bhttp::field::content_length, "999");    // replaced by the body's
  headers.set(bhttp::field::connection, "close");      // the pool keeps connections
  std::string head;
  write_request_head(head, bhttp::verb::post, "/api/generate", headers, "10.0.0.5:11434", 11);
  auto req = parse_request(head + "{\"a\":\"b\"}xx");
  EXPECT_EQ(req.method(), bhttp::verb::post);
  EXPECT_EQ(req.target(), "/api/generate");
  EXPECT_EQ(req.version(), 11);
  EXPECT_EQ(req[bhttp::field::host], "10.0.0.5:11434");
  EXPECT_EQ(req["X-Request-Id"], "abc123");
  EXPECT_EQ(req[bhttp::field::content_type], "application/json");
  EXPECT_EQ(req.body(), "{\"a\":\"b\"}xx");
  EXPECT_TRUE(req.keep_alive());
  EXPECT_EQ(count(head, "Host:"), 1);
  EXPECT_EQ(count(head, "Content-Length:"), 1);
  EXPECT_EQ(head.find("Connection"), std::string::npos);

  // A GET has no body and says no length; the buffer is reused, not appended to.
  write_request_head(head, bhttp::verb::get, "/api/tags", {}, "n1", 0);
  EXPECT_EQ(head, "GET /api/tags HTTP/1.1\r\nHost: n1\r\n\r\n");
  // An empty POST still says its length, so the node does not wait for one.
  write_request_head(head, bhttp::verb::post, "/api/x", {}, "n1", 0);
  EXPECT_NE(head.find("Content-Length: 0\r\n"), std::string::npos);
}

namespace {

// Routing headers, and a Content-Type among them that the reply's own must beat. (Made outside
// the handler: g++ 12 mishandles braced lists in coroutines.)
std::array<HeadField, 3> routing_fields() {
  return {HeadField{"X-Hydra-Node", "10.0.0.5:11434"}, HeadField{"X-Request-Id", "from-extra"},
          HeadField{"Content-Type", "text/wrong"}};
}

class ReplyHead : public ServerFixture {
protected:
  void SetUp() override {
    // A reply of known length (the head waits for the body's first bytes) and a chunked one,
    // each with routing headers, a header of the exchange's own that one of them repeats,
    // and a Content-Type among the routing headers that the reply's own must beat.
    for (bool sized : {true, false}) {
      router_.add(bhttp::verb::get, sized ? "/sized" : "/chunked", [sized](Exchange& ex) -> awaitable<void> {
        ex.add_reply_header("X-Request-Id", "first");
        ex.add_reply_header("X-Request-Id", "second");
        const auto extra = routing_fields();
        auto length = sized ? std::optional<std::uint64_t>(10) : std::nullopt;
        if (co_await ex.begin_stream(bhttp::status::ok, "application/x-ndjson", extra, length)) co_return;
        if (co_await ex.send_chunk("{\"a\":1}\n")) co_return;
        if (co_await ex.send_chunk("{}")) co_return;
        co_await ex.end_stream();
      });
    }
    start();
  }
};

}  // namespace

TEST_F(ReplyHead, SizedAndChunkedRepliesParseWithEachFieldOnce) {
  for (const std::string path : {"/sized", "/chunked"}) {
    const std::string reply = raw("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    bhttp::response_parser<bhttp::string_body> parser;
    boost::system::error_code ec = feed(parser, reply);
    ASSERT_FALSE(ec) << ec.message() << " in:\n" << reply;
    ASSERT_TRUE(parser.is_done()) << reply;
    const auto& res = parser.get();
    EXPECT_EQ(res.result_int(), 200) << reply;
    EXPECT_EQ(res.reason(), "OK");
    EXPECT_EQ(res.body(), "{\"a\":1}\n{}") << reply;
    EXPECT_EQ(res[bhttp::field::content_type], "application/x-ndjson") << reply;
    EXPECT_EQ(res["X-Hydra-Node"], "10.0.0.5:11434") << reply;
    EXPECT_EQ(res["X-Request-Id"], "second") << reply;
    EXPECT_EQ(count(reply, "X-Request-Id:"), 1) << reply;
    EXPECT_EQ(count(reply, "Content-Type:"), 1) << reply;
    EXPECT_EQ(res.chunked(), path == "/chunked") << reply;
    EXPECT_FALSE(res.keep_alive()) << reply;  // the client asked to close: the reply says so
  }
}

TEST_F(ReplyHead, Http10GetsARawBodyAndNoChunks) {
  const std::string reply = raw("GET /chunked HTTP/1.0\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << reply;
  EXPECT_EQ(reply.find("chunked"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("Connection:"), std::string::npos) << reply;  // 1.0 closes by default
  EXPECT_EQ(reply.substr(reply.find("\r\n\r\n") + 4), "{\"a\":1}\n{}") << reply;
}

TEST(AddressText, IsWhatAsioWrites) {
  for (const char* text : {"127.0.0.1", "0.0.0.0", "10.20.255.9", "100.0.99.1", "255.255.255.255", "::1", "fe80::1", "::ffff:10.0.0.1"}) {
    const auto address = asio::ip::make_address(text);
    EXPECT_EQ(address_text(address), address.to_string()) << text;
  }
}
