#include "http/field_value.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>
#include "common/blocks.hpp"

namespace hydra::http {

namespace {

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

// A common field name, matched in any case a word at a time: a name of 8 to 16 bytes as its
// first and last eight bytes, a shorter one (4 to 7) as its first and last four, each with bit
// 0x20 set on its letters' bytes only (no byte but a letter's two cases becomes that letter).
struct Known {
  std::string_view lower;
  boost::beast::http::field id;
  std::uint64_t first = 0, last = 0, first_mask = 0, last_mask = 0;

  constexpr Known(std::string_view name, boost::beast::http::field field) : lower(name), id(field) {
    const std::size_t w = name.size() >= 8 ? 8 : 4;
    for (std::size_t i = 0; i < w; ++i) {
      const auto a = static_cast<unsigned char>(name[i]), b = static_cast<unsigned char>(name[name.size() - w + i]);
      first |= std::uint64_t{a} << (8 * i);
      last |= std::uint64_t{b} << (8 * i);
      if (a >= 'a' && a <= 'z') first_mask |= std::uint64_t{0x20} << (8 * i);
      if (b >= 'a' && b <= 'z') last_mask |= std::uint64_t{0x20} << (8 * i);
    }
  }

  bool matches(std::string_view s) const {
    if (s.size() != lower.size()) return false;
    std::uint64_t a = 0, b = 0;
    if (s.size() >= 8) {
      std::memcpy(&a, s.data(), 8);
      std::memcpy(&b, s.data() + s.size() - 8, 8);
    } else {
      std::uint32_t x, y;
      std::memcpy(&x, s.data(), 4);
      std::memcpy(&y, s.data() + s.size() - 4, 4);
      a = x;
      b = y;
    }
    return (a | first_mask) == first && (b | last_mask) == last;
  }
};

using F = boost::beast::http::field;
constexpr Known kHost{"host", F::host}, kAccept{"accept", F::accept}, kUserAgent{"user-agent", F::user_agent},
    kConnection{"connection", F::connection}, kContentType{"content-type", F::content_type},
    kAuthorization{"authorization", F::authorization}, kContentLength{"content-length", F::content_length},
    kAcceptEncoding{"accept-encoding", F::accept_encoding};

}  // namespace

boost::beast::http::field field_id(std::string_view name) {
  if constexpr (std::endian::native != std::endian::little) return boost::beast::http::string_to_field(name);
  const Known* k = nullptr;
  switch (name.size()) {
    case 4: k = &kHost; break;
    case 6: k = &kAccept; break;
    case 10: k = kUserAgent.matches(name) ? &kUserAgent : &kConnection; break;
    case 12: k = &kContentType; break;
    case 13: k = &kAuthorization; break;
    case 14: k = &kContentLength; break;
    case 15: k = &kAcceptEncoding; break;
    default: break;
  }
  if (k && k->matches(name)) return k->id;
  return boost::beast::http::string_to_field(name);
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
    return all_blocks16(p, n, [](__m128i x, const char* at) {
      const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
      // x >= 0x20 (unsigned) exactly where max(x, 0x20) == x.
      const __m128i fine = _mm_andnot_si128(_mm_cmpeq_epi8(x, del), _mm_cmpeq_epi8(_mm_max_epu8(x, space), x));
      return _mm_movemask_epi8(fine) == 0xffff || bytes_safe(at, 16);
    });
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
