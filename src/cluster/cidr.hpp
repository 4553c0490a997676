#pragma once
// IPv4 address ranges for discovery: parsing "a.b.c.d/n", listing the addresses to probe,
// the allow-list every scanned or registered address must pass, and the default scan targets
// (the /24 of each interface). Pure functions, except local_interfaces() which asks the OS.
#include <boost/asio/ip/address_v4.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::cluster {

using Ipv4 = boost::asio::ip::address_v4;

struct Cidr {
  uint32_t network = 0;  // host bits cleared
  int prefix = 32;       // 0..32

  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  bool contains(uint32_t address) const { return (address & mask()) == network; }
  bool contains(const Ipv4& address) const { return contains(address.to_uint()); }
  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  std::string to_string() const;  // "10.0.0.0/24"
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "a.b.c.d/n" (n 0..32) or a bare address (= /32). Host bits are cleared, so "10.0.0.7/24" is
// 10.0.0.0/24. The error is a sentence for the user.
struct CidrParse {
  std::optional<Cidr> cidr;
  std::string error;
};
CidrParse parse_cidr(std::string_view text);

// A scan target: like parse_cidr, but the prefix must be 16..32 (at most 65536 addresses).
CidrParse parse_scan_target(std::string_view text);

inline constexpr std::size_t kMaxScanAddresses = 65536;

// The addresses to probe, in order, each once. For prefixes up to /30 the network and
// broadcast addresses are skipped; /31 and /32 list every address. More than `cap` addresses
// in total is refused (error set, addresses empty).
struct Enumeration {
  std::vector<Ipv4> addresses;
  std::string error;
};
Enumeration enumerate(const std::vector<Cidr>& targets, std::size_t cap = kMaxScanAddresses);

// Whether `address` lies inside one of `allowed_ranges`.
bool allowed(const Ipv4& address, const std::vector<Cidr>& allowed_ranges);

// The ranges discovery may scan and nodes may register from by default: the private ranges
// (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) and loopback (127.0.0.0/8).
const std::vector<Cidr>& default_allowed();

// One IPv4 interface of this machine.
struct Interface {
  std::string name;
  Ipv4 address;
  bool up = true;
  bool loopback = false;
};

// The default scan targets: the /24 of each up, non-loopback interface, each once, in order.
std::vector<Cidr> default_targets(const std::vector<Interface>& interfaces);

// This machine's IPv4 interfaces (getifaddrs); empty when they cannot be read.
std::vector<Interface> local_interfaces();

}  // namespace hydra::cluster
