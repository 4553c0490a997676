#pragma once
// What the load generator sends and where: target URLs, the request bytes (built once, sent
// as-is on every request) and client source-address ranges. Pure string handling.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loadgen {

struct Target {
  std::string host;  // IPv4 literal or name (resolved once at start)
  uint16_t port = 80;
  std::string path = "/";
};

// "http://HOST:PORT/path" (http only; no userinfo, no IPv6 literal). Nothing on malformed input.
std::optional<Target> parse_target(std::string_view url);

// One complete HTTP/1.1 request with a body, keep-alive.
std::string build_request(const Target& t, std::string_view method, std::string_view body,
                          std::string_view content_type = "application/json");

// "127.0.0.2-127.0.0.9" or a single "127.0.0.2" -> host-order IPv4 values, first to last.
// Nothing when malformed, reversed, or longer than 65536 addresses.
std::optional<std::vector<uint32_t>> parse_ipv4_range(std::string_view text);

}  // namespace loadgen
