#include "common/authority.hpp"

#include <gtest/gtest.h>

using hydra::parse_authority;

TEST(Authority, HostsPortsAndBrackets) {
  EXPECT_EQ(parse_authority("gpu-box")->host, "gpu-box");
  EXPECT_FALSE(parse_authority("gpu-box")->port);
  EXPECT_EQ(parse_authority("10.0.0.5:11434")->port, 11434);
  EXPECT_EQ(parse_authority("[::1]:8001")->host, "::1");
  EXPECT_EQ(parse_authority("[::1]")->host, "::1");
  for (const char* bad : {"", ":80", "host:", "host:0", "host:65536", "host:x", "[::1", "[::1]x", "user@host"})
    EXPECT_FALSE(parse_authority(bad)) << bad;
}

TEST(Authority, BracketsHoldOnlyAnIpv6Literal) {
  EXPECT_EQ(parse_authority("[fe80::1%eth0]:11434")->host, "fe80::1%eth0");
  EXPECT_EQ(parse_authority("[::ffff:10.0.0.5]")->host, "::ffff:10.0.0.5");
  // Found by fuzzing (fuzz/corpus/node_url/): a bracketed name printed back without brackets
  // did not parse again.
  for (const char* bad : {"[rrrr\xfcrrr]", "[gpu-box]", "[10.0.0.5]", "[::1%]", "[::1%a b]", "[]"})
    EXPECT_FALSE(parse_authority(bad)) << bad;
}
