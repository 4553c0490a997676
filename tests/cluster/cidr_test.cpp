// CIDR parsing, enumeration, the allow-list and default scan targets (pure functions).
#include "cluster/cidr.hpp"

#include <gtest/gtest.h>

using namespace hydra::cluster;

namespace {
Ipv4 ip(const char* text) { return boost::asio::ip::make_address_v4(text); }
Cidr cidr(const char* text) {
  auto p = parse_cidr(text);
  EXPECT_TRUE(p.cidr) << text << ": " << p.error;
  return p.cidr.value_or(Cidr{});
}
}  // namespace

TEST(Cidr, ParsesRangesAndBareAddresses) {
  auto c = cidr("192.168.1.0/24");
  EXPECT_EQ(c.network, ip("192.168.1.0").to_uint());
  EXPECT_EQ(c.prefix, 24);
  EXPECT_EQ(c.size(), 256u);
  EXPECT_EQ(c.to_string(), "192.168.1.0/24");

  auto bare = cidr("10.1.2.3");
  EXPECT_EQ(bare.prefix, 32);
  EXPECT_EQ(bare.to_string(), "10.1.2.3/32");

  // Host bits are cleared.
  EXPECT_EQ(cidr("10.0.0.77/24").to_string(), "10.0.0.0/24");
  EXPECT_EQ(cidr("0.0.0.0/0").size(), uint64_t{1} << 32);
}

TEST(Cidr, RejectsMalformedText) {
  for (const char* bad : {"", "/24", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/2x", "10.0.0/24",
                          "256.0.0.1", "host.example", "::1", "10.0.0.0/24/8"}) {
    auto p = parse_cidr(bad);
    EXPECT_FALSE(p.cidr) << bad;
    EXPECT_FALSE(p.error.empty()) << bad;
  }
}

TEST(Cidr, ScanTargetsAreAtMostSlash16) {
  EXPECT_TRUE(parse_scan_target("10.0.0.0/16").cidr);
  EXPECT_TRUE(parse_scan_target("10.0.0.9/32").cidr);
  auto wide = parse_scan_target("10.0.0.0/15");
  EXPECT_FALSE(wide.cidr);
  EXPECT_NE(wide.error.find("/16"), std::string::npos);
  EXPECT_FALSE(parse_scan_target("10.0.0.0/8").cidr);
}

TEST(Cidr, Contains) {
  auto c = cidr("172.16.0.0/12");
  EXPECT_TRUE(c.contains(ip("172.16.0.1")));
  EXPECT_TRUE(c.contains(ip("172.31.255.255")));
  EXPECT_FALSE(c.contains(ip("172.32.0.0")));
  EXPECT_FALSE(c.contains(ip("172.15.255.255")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("8.8.8.8")));
}

TEST(Enumerate, SkipsNetworkAndBroadcastUpToSlash30) {
  auto e = enumerate({cidr("127.0.0.0/30")});
  ASSERT_TRUE(e.error.empty());
  ASSERT_EQ(e.addresses.size(), 2u);
  EXPECT_EQ(e.addresses[0], ip("127.0.0.1"));
  EXPECT_EQ(e.addresses[1], ip("127.0.0.2"));

  auto e24 = enumerate({cidr("192.168.7.0/24")});
  ASSERT_EQ(e24.addresses.size(), 254u);
  EXPECT_EQ(e24.addresses.front(), ip("192.168.7.1"));
  EXPECT_EQ(e24.addresses.back(), ip("192.168.7.254"));

  auto e26 = enumerate({cidr("127.0.0.0/26")});
  EXPECT_EQ(e26.addresses.size(), 62u);
}

TEST(Enumerate, Slash31AndSlash32ListEveryAddress) {
  auto e31 = enumerate({cidr("10.0.0.4/31")});
  ASSERT_EQ(e31.addresses.size(), 2u);
  EXPECT_EQ(e31.addresses[0], ip("10.0.0.4"));
  EXPECT_EQ(e31.addresses[1], ip("10.0.0.5"));
  auto e32 = enumerate({cidr("10.0.0.9")});
  ASSERT_EQ(e32.addresses.size(), 1u);
  EXPECT_EQ(e32.addresses[0], ip("10.0.0.9"));
}

TEST(Enumerate, EachAddressOnceInOrder) {
  auto e = enumerate({cidr("10.0.0.0/30"), cidr("10.0.0.2"), cidr("10.0.0.9")});
  ASSERT_EQ(e.addresses.size(), 3u);
  EXPECT_EQ(e.addresses[0], ip("10.0.0.1"));
  EXPECT_EQ(e.addresses[1], ip("10.0.0.2"));
  EXPECT_EQ(e.addresses[2], ip("10.0.0.9"));
}

TEST(Enumerate, RefusesMoreThanTheCap) {
  EXPECT_TRUE(enumerate({cidr("10.0.0.0/16")}).error.empty());  // exactly 65536 before skipping
  auto two = enumerate({cidr("10.0.0.0/16"), cidr("10.1.0.0/32")});
  EXPECT_FALSE(two.error.empty());
  EXPECT_TRUE(two.addresses.empty());
  auto wide = enumerate({cidr("10.0.0.0/8")});
  EXPECT_FALSE(wide.error.empty());
  EXPECT_TRUE(wide.addresses.empty());
  EXPECT_FALSE(enumerate({cidr("10.0.0.0/24")}, 100).error.empty());
}

TEST(AllowList, DefaultIsPrivateRangesAndLoopback) {
  const auto& d = default_allowed();
  ASSERT_EQ(d.size(), 4u);
  for (const char* yes : {"10.0.0.1", "10.255.255.254", "172.16.0.1", "172.31.1.1", "192.168.0.1",
                          "192.168.255.254", "127.0.0.1", "127.0.0.40"})
    EXPECT_TRUE(allowed(ip(yes), d)) << yes;
  for (const char* no : {"8.8.8.8", "172.32.0.1", "172.15.0.1", "192.169.0.1", "11.0.0.1", "169.254.1.1",
                         "0.0.0.0", "255.255.255.255", "100.64.0.1"})
    EXPECT_FALSE(allowed(ip(no), d)) << no;
}

TEST(AllowList, CustomRanges) {
  std::vector<Cidr> only{cidr("127.0.0.0/30")};
  EXPECT_TRUE(allowed(ip("127.0.0.2"), only));
  EXPECT_FALSE(allowed(ip("127.0.0.5"), only));
  EXPECT_FALSE(allowed(ip("127.0.0.2"), {}));
}

TEST(DefaultTargets, TheSlash24OfEachNonLoopbackInterface) {
  std::vector<Interface> interfaces{
      {"lo", ip("127.0.0.1"), true, true},
      {"eth0", ip("192.168.1.37"), true, false},
      {"eth0:1", ip("192.168.1.200"), true, false},  // same /24: listed once
      {"wlan0", ip("10.20.30.40"), true, false},
      {"down0", ip("10.9.9.9"), false, false},        // down: skipped
      {"odd", ip("127.0.1.1"), true, false},          // loopback address without the flag
  };
  auto t = default_targets(interfaces);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].to_string(), "192.168.1.0/24");
  EXPECT_EQ(t[1].to_string(), "10.20.30.0/24");
  EXPECT_TRUE(default_targets({}).empty());
  EXPECT_TRUE(default_targets({{"lo", ip("127.0.0.1"), true, true}}).empty());
}

TEST(DefaultTargets, LocalInterfacesIncludeLoopback) {
  // Reads the real interfaces (nothing is contacted).
  auto list = local_interfaces();
  bool has_loopback = false;
  for (const auto& i : list) has_loopback |= i.address.is_loopback();
  EXPECT_TRUE(has_loopback);
}
