#pragma once
// The authority part of an http URL: "host", "host:port", "[v6]" or "[v6]:port".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra {

struct Authority {
  std::string host;             // without brackets
  std::optional<uint16_t> port; // absent when the text names none
};

// Nullopt for an empty host, user info ("user@host"), unclosed brackets, or a port that is
// empty, not a number, 0 or above 65535.
std::optional<Authority> parse_authority(std::string_view text);

}  // namespace hydra
