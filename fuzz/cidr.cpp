// Fuzz target: IPv4 ranges for discovery (src/cluster/cidr.cpp): parse_cidr, parse_scan_target,
// to_string, enumerate and the allow-list. A parsed range prints as text that parses back to it.
#include "cluster/cidr.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hydra::cluster;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_cidr(text);
  if (parsed.cidr) {
    const Cidr& c = *parsed.cidr;
    if (c.prefix < 0 || c.prefix > 32 || (c.network & ~c.mask()) != 0) __builtin_trap();
    auto again = parse_cidr(c.to_string());
    if (!again.cidr || !(*again.cidr == c)) __builtin_trap();
    (void)allowed(Ipv4(c.network), default_allowed());
  } else if (parsed.error.empty()) {
    __builtin_trap();  // a refusal always says why
  }
  auto target = parse_scan_target(text);
  if (target.cidr) {
    if (target.cidr->prefix < 16 || target.cidr->prefix > 32) __builtin_trap();
    auto list = enumerate({*target.cidr}, 1024);
    if (list.addresses.size() > 1024) __builtin_trap();
    for (const auto& a : list.addresses)
      if (!target.cidr->contains(a)) __builtin_trap();
  }
  return 0;
}
