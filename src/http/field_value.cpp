#include "http/field_value.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hydra::http {

namespace {

constexpr auto kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool bytes_safe(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto u = static_cast<unsigned char>(p[i]);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  return true;
}

// Whether the eight bytes at `p` may hold a byte below 0x20 or equal to 0x7f: never false when
// one does; may be true when none does (a borrow can flag the byte above a true one).
bool word_flagged(const char* p) {
  constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  const std::uint64_t del = x ^ (0x7f * ones);
  return (((x - 0x20 * ones) & ~x) | ((del - ones) & ~del)) & highs;
}

}  // namespace

bool token_char(char c) { return kTokenChars[static_cast<unsigned char>(c)]; }

bool token_chars(std::string_view s) {
  for (char c : s)
    if (!token_char(c)) return false;
  return true;
}

// Sixteen bytes at a time with SSE2 (every value of every reply is read, a route reason runs to
// hundreds of bytes), else eight: a block with a byte below 0x20 or equal to 0x7f is looked at
// byte by byte (a tab is fine); the last block overlaps the one before rather than ending byte
// by byte.
bool field_value_safe(std::string_view value) {
  const char* p = value.data();
  const std::size_t n = value.size();
#if defined(__SSE2__)
  if (n >= 16) {
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
    for (std::size_t at = 0;; at += 16) {
      if (at + 16 > n) at = n - 16;
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
      // x >= 0x20 (unsigned) exactly where max(x, 0x20) == x.
      const __m128i fine = _mm_andnot_si128(_mm_cmpeq_epi8(x, del), _mm_cmpeq_epi8(_mm_max_epu8(x, space), x));
      if (_mm_movemask_epi8(fine) != 0xffff && !bytes_safe(p + at, 16)) return false;
      if (at + 16 == n) return true;
    }
  }
#endif
  if (n < 8) return bytes_safe(p, n);
  for (std::size_t at = 0;; at += 8) {
    if (at + 8 > n) at = n - 8;
    if (word_flagged(p + at) && !bytes_safe(p + at, 8)) return false;
    if (at + 8 == n) return true;
  }
}

std::string safe_field_value(std::string_view value) {
  std::string out(value);
  for (char& c : out)
    if (!bytes_safe(&c, 1)) c = ' ';
  return out;
}

void make_field_values_safe(boost::beast::http::fields& fields) {
  std::vector<std::pair<std::string, std::string>> mended;
  for (auto it = fields.begin(); it != fields.end();) {
    if (field_value_safe(it->value())) {
      ++it;
      continue;
    }
    mended.emplace_back(std::string(it->name_string()), safe_field_value(it->value()));
    it = fields.erase(it);
  }
  for (const auto& [name, value] : mended) fields.insert(name, value);
}

}  // namespace hydra::http
