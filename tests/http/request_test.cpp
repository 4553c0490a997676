// The server's request (http/request.hpp): the plain form read without Beast's parser, and the
// rule that it takes only what Beast's parser reads the same way (a differential run over
// generated requests, good and bad), leaving everything else to it.
#include "http/request.hpp"
#include "http/types.hpp"

#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>
#include <cctype>
#include <map>
#include <random>
#include <string>
#include <vector>

using hydra::http::parse_plain_request;
using hydra::http::Request;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t kHeaderLimit = 64u << 10;
constexpr std::size_t kBodyLimit = 1u << 20;

std::optional<hydra::http::PlainRequest> plain(std::string_view bytes) {
  return parse_plain_request(bytes, kHeaderLimit, kBodyLimit);
}

// Beast's reading of `bytes`, as the server's slow path reads a request; nullopt when it fails
// or needs more. `used`: the bytes it took.
std::optional<hydra::http::BeastRequest> beast(std::string_view bytes, std::size_t& used) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(kBodyLimit);
  parser.header_limit(static_cast<std::uint32_t>(kHeaderLimit));
  parser.eager(true);
  used = 0;
  boost::system::error_code ec;
  while (!parser.is_done() && used < bytes.size()) {
    const std::size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec || n == 0) break;
  }
  if (ec || !parser.is_done()) return std::nullopt;
  return parser.release();
}

// Fields by lower-cased name: each name's (name as written, value) pairs, in order.
template <class It>
std::map<std::string, std::vector<std::pair<std::string, std::string>>> by_name(It begin, It end) {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> out;
  for (It it = begin; it != end; ++it) {
    const auto& f = *it;  // a temporary (the plain request's) or an element (Beast's)
    std::string key(f.name_string());
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[key].emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  return out;
}

}  // namespace

TEST(PlainRequest, ReadsTheRequestLineFieldsAndBodyAndLeavesWhatFollows) {
  const std::string next = "GET /api/tags HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string bytes =
      "POST /api/generate?x=1 HTTP/1.1\r\nHost: 127.0.0.1:11434\r\nContent-Type:application/json \r\n"
      "X-Hydra-Node:\t 10.0.0.7:11434\t\r\nX-Empty:\r\ncontent-length: 7\r\n\r\n{\"a\":1}" +
      next;
  auto r = plain(bytes);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size, bytes.size() - next.size());
  const Request& q = r->request;
  EXPECT_EQ(q.method(), bhttp::verb::post);
  EXPECT_EQ(q.method_string(), "POST");
  EXPECT_EQ(q.target(), "/api/generate?x=1");
  EXPECT_EQ(q.version(), 11u);
  EXPECT_EQ(q.body(), "{\"a\":1}");
  EXPECT_EQ(q[bhttp::field::host], "127.0.0.1:11434");
  EXPECT_EQ(q["content-type"], "application/json");  // any case; the space before CR LF trimmed
  EXPECT_EQ(q["x-hydra-node"], "10.0.0.7:11434");     // tabs and spaces around the value trimmed
  EXPECT_EQ(q["X-Empty"], "");
  EXPECT_NE(q.find("X-Empty"), q.end());
  EXPECT_EQ(q.find("X-Absent"), q.end());
  EXPECT_EQ(q[bhttp::field::content_length], "7");
  std::vector<std::string> names;
  for (const auto& f : q) names.emplace_back(f.name_string());
  EXPECT_EQ(names, (std::vector<std::string>{"Host", "Content-Type", "X-Hydra-Node", "X-Empty", "content-length"}));
  EXPECT_TRUE(q.keep_alive());

  auto second = plain(std::string_view(bytes).substr(r->size));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->request.method(), bhttp::verb::get);
  EXPECT_EQ(second->size, next.size());
  EXPECT_TRUE(second->request.body().empty());
}

TEST(PlainRequest, LeavesEverythingElseToTheFullParser) {
  const char* const others[] = {
      "GET / HTTP/1.1\r\nHost: h\r\n",                                            // the head still arriving
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345",           // the body still arriving
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nx",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1,1\r\n\r\nx",
      "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n",                   // obsolete line folding
      "GET / HTTP/1.1\nHost: h\r\n\r\n",                                          // a bare LF
      "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : h\r\n\r\n",                                       // space before the colon
      "GET / HTTP/1.1\r\nHost: a\x01z\r\n\r\n",                                   // a control byte
      "GET / HTTP/1.1\r\nHost: a\x7fz\r\n\r\n",
      "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
      "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
      "BREW / HTTP/1.1\r\nHost: h\r\n\r\n",                                       // not a method Beast knows
      "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /a\x80 HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\n: h\r\n\r\n",
  };
  for (const char* other : others) EXPECT_FALSE(plain(other)) << other;
  // Over the body limit by its length, or a head near the header limit: Beast's parser refuses.
  EXPECT_FALSE(parse_plain_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n12345", kHeaderLimit, 4));
  const std::string big = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(kHeaderLimit, 'a') + "\r\n\r\n";
  EXPECT_FALSE(plain(big));
}

TEST(PlainRequest, KeepAliveAsBeastSaysIt) {
  EXPECT_TRUE(plain("GET / HTTP/1.1\r\nHost: h\r\n\r\n")->request.keep_alive());
  EXPECT_FALSE(plain("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, Close\r\n\r\n")->request.keep_alive());
  EXPECT_FALSE(plain("GET / HTTP/1.0\r\n\r\n")->request.keep_alive());
  EXPECT_TRUE(plain("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")->request.keep_alive());
}

TEST(ServerRequest, MadeByHandOrFromBeastsMessage) {
  Request r;
  r.insert("X-Twice", "1");
  r.insert("x-twice", "2");
  EXPECT_EQ(r["X-TWICE"], "1");  // the first, as a message's operator[]
  r.set("X-Twice", "3");
  EXPECT_EQ(r["x-twice"], "3");
  EXPECT_EQ(std::distance(r.begin(), r.end()), 1);

  hydra::http::BeastRequest m{bhttp::verb::put, "/x?y", 10};
  m.set(bhttp::field::connection, "keep-alive");
  m.insert("X-Hydra-Priority", "7");
  m.body() = "body";
  const Request from = Request::from_beast(std::move(m));
  EXPECT_EQ(from.method(), bhttp::verb::put);
  EXPECT_EQ(from.method_string(), "PUT");
  EXPECT_EQ(from.target(), "/x?y");
  EXPECT_EQ(from.version(), 10u);
  EXPECT_TRUE(from.keep_alive());
  EXPECT_EQ(from.find(bhttp::field::connection)->name(), bhttp::field::connection);
  EXPECT_EQ(from["x-hydra-priority"], "7");
  EXPECT_EQ(from.body(), "body");
}

// Generated requests, plain and not: whatever the plain reader takes, Beast's parser reads the
// same (method, target, version, every field, body, bytes used, keep-alive).
TEST(PlainRequest, TakesOnlyWhatBeastReadsTheSameWay) {
  std::mt19937 rng(20261205);
  // Each list starts with `good` pieces that fit the plain form: taken 7 times in 8.
  auto pick = [&](const std::vector<std::string>& from, std::size_t good) {
    return rng() % 8 ? from[rng() % good] : from[rng() % from.size()];
  };
  const std::vector<std::string> methods = {"GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT", "get", "BREW", "G@T", ""};
  const std::vector<std::string> targets = {"/", "/api/generate", "/v1/chat/completions?x=1&y=%20", "*",
                                            "http://h/x", "/a\"b", "/{}|^`", "/a b", "", "/\x80"};
  const std::vector<std::string> versions = {"HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "http/1.1", "HTTP/1.1 "};
  const std::vector<std::string> names = {"Host",   "Content-Type", "X-Request-Id", "Connection", "Accept",
                                          "x-hydra-session", "Expect", "A!#$%&'*+-.^_`|~", "Bad Name", "Bad\tName",
                                          "Content-Length", "Transfer-Encoding", ""};
  const std::vector<std::string> values = {"h",        "",           " spaced ", "\tx\t", "close", "keep-alive",
                                           "a, close", "Upgrade, keep-alive", "\xc3\xa9t\xc3\xa9", "100-continue",
                                           "5",        "05",         "a\x01z",   "a\x7fz", "18446744073709551616",
                                           "-1",       "chunked",    "a\"b\"c"};
  const std::vector<std::string> ends = {"\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r\n "};
  int taken = 0, compared = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = pick(methods, 6) + (rng() % 20 ? " " : "  ") + pick(targets, 7) + " " + pick(versions, 2) + pick(ends, 1);
    const int fields = static_cast<int>(rng() % 6);
    for (int f = 0; f < fields; ++f) bytes += pick(names, 8) + (rng() % 10 ? ":" : " :") + pick(values, 12) + pick(ends, 1);
    std::string body(rng() % 12, 'b');
    if (rng() % 2) bytes += "Content-Length: " + std::to_string(rng() % 8 ? body.size() : body.size() + 3) + "\r\n";
    bytes += "\r\n" + body;
    if (rng() % 4 == 0) bytes += "GET / HTTP/1.1\r\nHost: next\r\n\r\n";  // a pipelined next request
    auto mine = plain(bytes);
    if (!mine) continue;
    ++taken;
    std::size_t used = 0;
    auto theirs = beast(bytes, used);
    ASSERT_TRUE(theirs) << "plain took what Beast refuses: " << bytes;
    ++compared;
    const Request& q = mine->request;
    ASSERT_EQ(mine->size, used) << bytes;
    EXPECT_EQ(q.method(), theirs->method()) << bytes;
    EXPECT_EQ(q.method_string(), theirs->method_string()) << bytes;
    EXPECT_EQ(q.target(), theirs->target()) << bytes;
    EXPECT_EQ(q.version(), theirs->version()) << bytes;
    EXPECT_EQ(q.body(), theirs->body()) << bytes;
    EXPECT_EQ(q.keep_alive(), theirs->keep_alive()) << bytes;
    // The same fields: each name's values in the same order (Beast's message groups fields of
    // one name together; the order among different names means nothing).
    EXPECT_EQ(by_name(q.begin(), q.end()), by_name(theirs->begin(), theirs->end())) << bytes;
  }
  // Not vacuous: a good share of the generated requests are plain ones.
  EXPECT_GT(taken, 4000);
  EXPECT_EQ(compared, taken);
}
