#include "api/request_id.hpp"

#include "common/fast_random.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace hydra::api {

namespace {

// `digits` lower-case hex digits into `out`, sixteen per number of the engine, two per byte
// from a table (one id is made per request).
void random_hex(char* out, std::size_t digits) {
  thread_local FastRandom engine;
  static constexpr auto kPairs = [] {
    constexpr char hex[] = "0123456789abcdef";
    std::array<std::array<char, 2>, 256> t{};
    for (int b = 0; b < 256; ++b) t[b] = {hex[b & 0xf], hex[b >> 4]};
    return t;
  }();
  for (std::size_t at = 0; at < digits; at += 16) {
    uint64_t bits = engine();
    char sixteen[16];
    for (int byte = 0; byte < 8; ++byte, bits >>= 8) std::memcpy(sixteen + 2 * byte, kPairs[bits & 0xff].data(), 2);
    std::memcpy(out + at, sixteen, std::min<std::size_t>(16, digits - at));
  }
}

std::string random_hex(std::size_t digits) {
  std::string out(digits, '0');
  random_hex(out.data(), digits);
  return out;
}

bool hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

RequestIdText request_id_for(std::string_view id) {
  const bool sane = !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '-';
  });
  RequestIdText out;
  if (sane) {
    out.assign(id);
  } else {
    out.resize(32);
    random_hex(out.data(), 32);
  }
  return out;
}

std::optional<std::string> next_traceparent(std::string_view t) {
  // version(2)-trace-id(32)-parent-id(16)-flags(2), lower-case hex; an all-zero id is invalid.
  if (t.size() != 55 || t[2] != '-' || t[35] != '-' || t[52] != '-') return std::nullopt;
  const std::string_view version = t.substr(0, 2), trace = t.substr(3, 32), flags = t.substr(53, 2);
  if (!hex(version) || version == "ff" || !hex(trace) || !hex(t.substr(36, 16)) || !hex(flags)) return std::nullopt;
  if (trace == std::string(32, '0')) return std::nullopt;
  std::string span;
  do span = random_hex(16);
  while (span == std::string(16, '0'));
  return "00-" + std::string(trace) + "-" + span + "-" + std::string(flags);
}

}  // namespace hydra::api
