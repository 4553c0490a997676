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
std::optional<hydra::http::BeastRequest> beast(std::string_view bytes, std::size_t& used,
                                               std::size_t header_limit = kHeaderLimit,
                                               std::size_t body_limit = kBodyLimit) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(body_limit);
  parser.header_limit(static_cast<std::uint32_t>(header_limit));
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

// Whatever the plain reader takes from `bytes` under these limits, Beast's parser reads the
// same (method, target, version, every field, body, bytes used, keep-alive). True when the plain
// reader took it.
bool agrees_with_beast(const std::string& bytes, std::size_t header_limit = kHeaderLimit,
                       std::size_t body_limit = kBodyLimit) {
  auto mine = parse_plain_request(bytes, header_limit, body_limit);
  if (!mine) return false;
  std::size_t used = 0;
  auto theirs = beast(bytes, used, header_limit, body_limit);
  EXPECT_TRUE(theirs) << "plain took what Beast refuses: " << bytes;
  if (!theirs) return true;
  const Request& q = mine->request;
  EXPECT_EQ(mine->size, used) << bytes;
  EXPECT_EQ(q.method(), theirs->method()) << bytes;
  EXPECT_EQ(q.method_string(), theirs->method_string()) << bytes;
  EXPECT_EQ(q.target(), theirs->target()) << bytes;
  EXPECT_EQ(q.version(), theirs->version()) << bytes;
  EXPECT_EQ(q.body(), theirs->body()) << bytes;
  EXPECT_EQ(q.keep_alive(), theirs->keep_alive()) << bytes;
  // The same fields: each name's values in the same order (Beast's message groups fields of
  // one name together; the order among different names means nothing).
  EXPECT_EQ(by_name(q.begin(), q.end()), by_name(theirs->begin(), theirs->end())) << bytes;
  return true;
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
                                          "Content-Length", "Transfer-Encoding", "transfer-encoding", "CONNECTION",
                                          "Proxy-Connection", ""};
  const std::vector<std::string> values = {"h",        "",           " spaced ", "\tx\t", "close", "keep-alive",
                                           "a, close", "Upgrade, keep-alive", "\xc3\xa9t\xc3\xa9", "100-continue",
                                           "5",        "05",         "a\x01z",   "a\x7fz", "18446744073709551616",
                                           "-1",       "chunked",    "a\"b\"c", ",close", "close,,", "close;x",
                                           "\"close\"", " \t ", "\t"};
  const std::vector<std::string> ends = {"\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r\n "};
  int taken = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = pick(methods, 6) + (rng() % 20 ? " " : "  ") + pick(targets, 7) + " " + pick(versions, 2) + pick(ends, 1);
    const int fields = static_cast<int>(rng() % 6);
    for (int f = 0; f < fields; ++f) bytes += pick(names, 8) + (rng() % 10 ? ":" : " :") + pick(values, 12) + pick(ends, 1);
    std::string body(rng() % 12, 'b');
    if (rng() % 2) {
      const std::vector<std::string> lengths = {std::to_string(body.size()), "00" + std::to_string(body.size()),
                                                std::to_string(body.size() + 3), std::to_string(body.size() / 2),
                                                " " + std::to_string(body.size()) + " ", std::to_string(body.size()) + ",",
                                                "999999999999999999", "9999999999999999999", "99999999999999999999"};
      bytes += pick({"Content-Length", "content-length", "CONTENT-LENGTH"}, 3) + ": " + pick(lengths, 2) + "\r\n";
    }
    bytes += "\r\n" + body;
    if (rng() % 4 == 0) bytes += "GET / HTTP/1.1\r\nHost: next\r\n\r\n";  // a pipelined next request
    if (!agrees_with_beast(bytes)) continue;
    ++taken;
    if (::testing::Test::HasFailure()) break;
  }
  // Not vacuous: a good share of the generated requests are plain ones.
  EXPECT_GT(taken, 4000);
}

// Good requests with one byte replaced, inserted or dropped (every byte value): the plain
// reader takes only what Beast reads the same way.
TEST(PlainRequest, OneByteOffStillAgreesWithBeast) {
  const std::string good[] = {
      "POST /api/chat?x=1 HTTP/1.1\r\nHost: h:1\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
      "Content-Length: 9\r\n\r\n{\"a\":\"b\"}GET / HTTP/1.1\r\nHost: n\r\n\r\n",
      "GET /api/tags HTTP/1.0\r\nConnection: keep-alive\r\nX-Request-Id: r-1\r\n\r\n"};
  std::mt19937 rng(7);
  int taken = 0;
  for (int i = 0; i < 30000 && !::testing::Test::HasFailure(); ++i) {
    std::string bytes = good[i % 2];
    const std::size_t at = rng() % bytes.size();
    const char byte = static_cast<char>(rng() % 256);
    switch (rng() % 3) {
      case 0: bytes[at] = byte; break;
      case 1: bytes.insert(bytes.begin() + static_cast<long>(at), byte); break;
      default: bytes.erase(at, 1); break;
    }
    if (agrees_with_beast(bytes)) ++taken;
  }
  EXPECT_GT(taken, 5000);
}

// Near the limits: heads around the header limit, bodies at the body limit and past it.
TEST(PlainRequest, AtTheLimitsAgreesWithBeast) {
  int taken = 0;
  for (std::size_t pad = 0; pad < 300; ++pad) {
    const std::string bytes = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: " + std::string(pad, 'p') + "\r\n\r\n";
    taken += agrees_with_beast(bytes, 256, 8);
  }
  for (std::size_t size = 0; size < 12; ++size) {
    const std::string bytes = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n" +
                              std::string(size, 'b');
    taken += agrees_with_beast(bytes, 256, 8);
  }
  EXPECT_GT(taken, 100);
  // Over the body limit: left to Beast, whose 413 the server sends.
  EXPECT_FALSE(parse_plain_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n123456789", 256, 8));
}

TEST(ServerRequest, AFieldTakenFromTheSameList) {
  Request r;
  r.insert("X-A", "first");
  for (int i = 0; i < 50; ++i) r.insert(r.begin()->name_string(), r["x-a"]);  // the text grows under the views
  r.set("X-B", r["X-A"]);
  EXPECT_EQ(r["x-b"], "first");
  EXPECT_EQ(std::distance(r.begin(), r.end()), 52);
  for (const auto& f : r) EXPECT_EQ(f.value(), "first");
}
