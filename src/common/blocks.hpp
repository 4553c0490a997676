#pragma once
// Text checked sixteen bytes at a time with SSE2 (checks that run on every request: header
// values, access-log words). A text of 16 bytes or more is read in blocks whose last one
// overlaps the one before, so no byte outside the text is read and none is left to a byte loop.
#if defined(__SSE2__)
#include <emmintrin.h>

#include <cstddef>

namespace hydra {

// Whether `ok(block, at)` holds for every block of p[0, n) (n >= 16; `at`: where the block
// starts); stops at the first that fails.
template <class Ok>
bool all_blocks16(const char* p, std::size_t n, Ok ok) {
  for (std::size_t at = 0;; at += 16) {
    if (at + 16 > n) at = n - 16;
    if (!ok(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at)), p + at)) return false;
    if (at + 16 == n) return true;
  }
}

// p[0, n) for 8 <= n <= 16 as one block: its first eight bytes and its last eight (which
// overlap below 16).
inline __m128i block_of_halves(const char* p, std::size_t n) {
  return _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),
                            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + n - 8)));
}

}  // namespace hydra
#endif
