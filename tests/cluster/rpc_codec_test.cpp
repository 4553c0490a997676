// The ggml-rpc codec, byte for byte (docs/LLAMACPP.md section 1).
#include "cluster/rpc_codec.hpp"

#include <gtest/gtest.h>

using namespace hydra::cluster::rpc;
using namespace std::string_literals;

TEST(RpcCodec, RequestsAreCommandLengthPayloadLittleEndian) {
  EXPECT_EQ(hello_request(false), "\x0e\0\0\0\0\0\0\0\0"s);
  const std::string caps = hello_request(true);
  ASSERT_EQ(caps.size(), 9u + 24u);
  EXPECT_EQ(caps.substr(0, 9), "\x0e\x18\0\0\0\0\0\0\0"s);
  EXPECT_EQ(caps.substr(9), std::string(24, '\0'));
  EXPECT_EQ(request(Command::device_count), "\x0f\0\0\0\0\0\0\0\0"s);
  EXPECT_EQ(device_memory_request(2u), "\x0b\x04\0\0\0\0\0\0\0\x02\0\0\0"s);
  EXPECT_EQ(device_memory_request(std::nullopt), "\x0b\0\0\0\0\0\0\0\0"s);  // before 3.0.0
}

TEST(RpcCodec, RepliesAreReadWhenWholeAndRefusedWhenTooBig) {
  const std::string reply = "\x03\0\0\0\0\0\0\0\x03\x07\x01"s;
  EXPECT_FALSE(read_reply(reply.substr(0, 5)).complete);
  EXPECT_FALSE(read_reply(reply.substr(0, 10)).complete);
  const std::string more = reply + "extra";  // the frame's payload points into it
  Frame f = read_reply(more);
  ASSERT_TRUE(f.complete);
  EXPECT_EQ(f.consumed, 11u);
  auto v = parse_hello(f.payload);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 3);
  EXPECT_EQ(v->minor, 7);
  EXPECT_EQ(v->patch, 1);
  EXPECT_FALSE(v->with_caps);
  EXPECT_TRUE(read_reply("\xff\xff\0\0\0\0\0\0"s).too_big);  // 65,535 bytes: no probe's reply
}

TEST(RpcCodec, NewestHelloCountAndMemory) {
  std::string hello = "\x07\x00\x01\x00"s + std::string(24, '\0');
  auto v = parse_hello(hello);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 7);
  EXPECT_TRUE(v->with_caps);
  EXPECT_FALSE(parse_hello("\x01\x02"s));
  EXPECT_EQ(parse_device_count("\x02\0\0\0"s), 2u);
  EXPECT_FALSE(parse_device_count("\x02\0\0"s));
  // free 0x0000000200000000 (8 GiB), total 0x0000000300000000 (12 GiB)
  auto m = parse_device_memory("\0\0\0\0\x02\0\0\0"s "\0\0\0\0\x03\0\0\0"s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->free, 8ull << 30);
  EXPECT_EQ(m->total, 12ull << 30);
  EXPECT_FALSE(parse_device_memory(std::string(15, '\0')));
}
