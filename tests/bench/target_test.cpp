// loadgen's targets, request bytes and source-address ranges.
#include "target.hpp"

#include <gtest/gtest.h>

using loadgen::build_request;
using loadgen::parse_ipv4_range;
using loadgen::parse_target;

TEST(Target, ParsesHostPortAndPath) {
  auto t = parse_target("http://127.0.0.1:8001/api/generate");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 8001);
  EXPECT_EQ(t->path, "/api/generate");
  auto bare = parse_target("http://localhost");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->port, 80);
  EXPECT_EQ(bare->path, "/");
  EXPECT_FALSE(parse_target("https://127.0.0.1:1/"));
  EXPECT_FALSE(parse_target("http://127.0.0.1:0/"));
  EXPECT_FALSE(parse_target("http://127.0.0.1:70000/"));
  EXPECT_FALSE(parse_target("http://:80/"));
}

TEST(Target, BuildsAKeepAliveRequestWithLength) {
  auto t = *parse_target("http://127.0.0.1:8001/api/generate");
  EXPECT_EQ(build_request(t, "POST", "{}"),
            "POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1:8001\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(build_request(t, "GET", ""), "GET /api/generate HTTP/1.1\r\nHost: 127.0.0.1:8001\r\n\r\n");
}

TEST(Target, SourceRanges) {
  auto r = parse_ipv4_range("127.0.0.254-127.0.1.1");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (std::vector<uint32_t>{0x7f0000fe, 0x7f0000ff, 0x7f000100, 0x7f000101}));
  EXPECT_EQ(parse_ipv4_range("127.0.0.2")->size(), 1u);
  EXPECT_FALSE(parse_ipv4_range("127.0.0.9-127.0.0.2"));
  EXPECT_FALSE(parse_ipv4_range("127.0.0"));
  EXPECT_FALSE(parse_ipv4_range("127.0.0.256"));
  EXPECT_FALSE(parse_ipv4_range("127.0.0.1-"));
}
