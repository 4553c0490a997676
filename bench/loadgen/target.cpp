#include "target.hpp"

#include <charconv>

namespace loadgen {

namespace {

std::optional<uint32_t> parse_ipv4(std::string_view s) {
  uint32_t out = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned octet = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), octet);
    if (ec != std::errc() || p == s.data() || octet > 255) return std::nullopt;
    out = (out << 8) | octet;
    s.remove_prefix(static_cast<std::size_t>(p - s.data()));
    if (i < 3) {
      if (s.empty() || s.front() != '.') return std::nullopt;
      s.remove_prefix(1);
    }
  }
  if (!s.empty()) return std::nullopt;
  return out;
}

}  // namespace

std::optional<Target> parse_target(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  Target t;
  auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  t.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    auto port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
    t.port = static_cast<uint16_t>(value);
    authority = authority.substr(0, colon);
  }
  if (authority.empty() || authority.find_first_of("@[]") != std::string_view::npos) return std::nullopt;
  t.host = std::string(authority);
  return t;
}

std::string build_request(const Target& t, std::string_view method, std::string_view body,
                          std::string_view content_type) {
  std::string out;
  out.reserve(160 + body.size());
  out.append(method).append(" ").append(t.path).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(t.host).append(":").append(std::to_string(t.port)).append("\r\n");
  if (!body.empty() || method == "POST") {
    out.append("Content-Type: ").append(content_type).append("\r\n");
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

std::optional<std::vector<uint32_t>> parse_ipv4_range(std::string_view text) {
  auto dash = text.find('-');
  auto first = parse_ipv4(text.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : parse_ipv4(text.substr(dash + 1));
  if (!first || !last || *last < *first || *last - *first >= 65536) return std::nullopt;
  std::vector<uint32_t> out;
  for (uint64_t a = *first; a <= *last; ++a) out.push_back(static_cast<uint32_t>(a));
  return out;
}

}  // namespace loadgen
