#include "cluster/cidr.hpp"

#include "common/whole_number.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <set>

namespace hydra::cluster {

std::string Cidr::to_string() const { return fmt::format("{}/{}", Ipv4(network).to_string(), prefix); }

CidrParse parse_cidr(std::string_view text) {
  CidrParse out;
  auto slash = text.find('/');
  auto addr_text = std::string(text.substr(0, slash));
  int prefix = 32;
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    prefix = whole_number<int>(p).value_or(-1);
    if (prefix < 0 || prefix > 32) {
      out.error = fmt::format("\"{}\": the prefix length must be a number from 0 to 32", text);
      return out;
    }
  }
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address_v4(addr_text, ec);
  if (ec || addr_text.empty()) {
    out.error = fmt::format("\"{}\": expected an IPv4 address or range like 192.168.1.0/24", text);
    return out;
  }
  Cidr c;
  c.prefix = prefix;
  c.network = address.to_uint() & c.mask();
  out.cidr = c;
  return out;
}

CidrParse parse_scan_target(std::string_view text) {
  auto out = parse_cidr(text);
  if (out.cidr && out.cidr->prefix < 16) {
    out.error = fmt::format("\"{}\": ranges larger than /16 (65536 addresses) are not scanned", text);
    out.cidr.reset();
  }
  return out;
}

Enumeration enumerate(const std::vector<Cidr>& targets, std::size_t cap) {
  Enumeration out;
  uint64_t total = 0;
  for (const auto& t : targets) total += t.size();
  if (total > cap) {
    out.error = fmt::format("{} addresses to scan; at most {} are allowed", total, cap);
    return out;
  }
  std::set<uint32_t> seen;
  for (const auto& t : targets) {
    uint64_t first = t.network, last = uint64_t{t.network} + t.size() - 1;
    if (t.prefix <= 30) ++first, --last;  // network and broadcast addresses
    for (uint64_t a = first; a <= last; ++a)
      if (seen.insert(static_cast<uint32_t>(a)).second) out.addresses.emplace_back(static_cast<uint32_t>(a));
  }
  return out;
}

bool allowed(const Ipv4& address, const std::vector<Cidr>& allowed_ranges) {
  return std::any_of(allowed_ranges.begin(), allowed_ranges.end(),
                     [&](const Cidr& c) { return c.contains(address); });
}

const std::vector<Cidr>& default_allowed() {
  static const std::vector<Cidr> ranges = [] {
    std::vector<Cidr> r;
    for (const char* text : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8"})
      r.push_back(*parse_cidr(text).cidr);
    return r;
  }();
  return ranges;
}

std::vector<Cidr> default_targets(const std::vector<Interface>& interfaces) {
  std::vector<Cidr> out;
  for (const auto& i : interfaces) {
    if (!i.up || i.loopback || i.address.is_loopback() || i.address.is_unspecified()) continue;
    Cidr c;
    c.prefix = 24;
    c.network = i.address.to_uint() & c.mask();
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

std::vector<Interface> local_interfaces() {
  std::vector<Interface> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (auto* it = list; it; it = it->ifa_next) {
    if (!it->ifa_addr || it->ifa_addr->sa_family != AF_INET) continue;
    const auto* sin = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
    Interface i;
    i.name = it->ifa_name ? it->ifa_name : "";
    i.address = Ipv4(ntohl(sin->sin_addr.s_addr));
    i.up = (it->ifa_flags & IFF_UP) != 0;
    i.loopback = (it->ifa_flags & IFF_LOOPBACK) != 0;
    out.push_back(std::move(i));
  }
  freeifaddrs(list);
  return out;
}

}  // namespace hydra::cluster
