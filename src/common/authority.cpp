#include "common/authority.hpp"

#include "common/whole_number.hpp"

#include <cctype>

namespace hydra {

std::optional<Authority> parse_authority(std::string_view text) {
  std::string_view host = text, port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      port = text.substr(close + 2);
      has_port = true;
    }
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
  }
  if (host.empty() || host.find('@') != std::string_view::npos) return std::nullopt;
  // In brackets, an IPv6 literal: hex digits, ':' and '.' (an embedded IPv4), at least one ':',
  // and maybe a zone ("%eth0") of letters, digits, '-', '_' and '.'.
  if (text.front() == '[') {
    const std::string_view address = host.substr(0, host.find('%'));
    const std::string_view zone = host.substr(address.size());
    if (address.find(':') == std::string_view::npos || zone.size() == 1) return std::nullopt;
    for (char c : address)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return std::nullopt;
    for (char c : zone.substr(zone.empty() ? 0 : 1))
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return std::nullopt;
  }
  // A host name or IPv4 address: no brackets, colons (IPv6 needs brackets), spaces or controls.
  if (text.front() != '[')
    for (char c : host)
      if (c == '[' || c == ']' || c == ':' || c == '/' || static_cast<unsigned char>(c) <= 0x20 ||
          static_cast<unsigned char>(c) >= 0x7f)
        return std::nullopt;
  Authority out{std::string(host), std::nullopt};
  if (has_port) {
    const auto value = whole_number<unsigned>(port);
    if (!value || *value == 0 || *value > 65535) return std::nullopt;
    out.port = static_cast<uint16_t>(*value);
  }
  return out;
}

}  // namespace hydra
