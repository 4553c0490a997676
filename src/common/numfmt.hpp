#pragma once
// Numbers appended to a string by hand (std::to_chars), for text made per request (the access
// log's line, a routing reason): no format string to interpret.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace hydra {

// Room put_int() and put_fixed() may need.
inline constexpr std::size_t kIntRoom = 24;
inline constexpr std::size_t kFixedRoom = 352;  // 1e308 with 6 decimals

inline char* put_int(char* out, int64_t v) { return std::to_chars(out, out + kIntRoom, v).ptr; }

inline void append_int(std::string& out, int64_t v) {
  char buf[kIntRoom];
  out.append(buf, put_int(buf, v));
}

// `v` with `decimals` (1 to 6) digits after the point, as "{:.Nf}" writes it: by integer
// arithmetic, except values next to a tie (where the exact binary value decides), negative
// ones and ones out of range, which take the exact conversion. Writes at most kFixedRoom bytes.
inline char* put_fixed(char* out, double v, int decimals) {
  int64_t unit = 1;
  for (int i = 0; i < decimals; ++i) unit *= 10;
  const double scaled = v * static_cast<double>(unit);
  const double whole = std::floor(scaled);
  const double frac = scaled - whole;
  if (!(whole >= 0 && whole < 9e15) || std::fabs(frac - 0.5) < 1e-6) {
    auto [end, ec] = std::to_chars(out, out + kFixedRoom, v, std::chars_format::fixed, decimals);
    return ec == std::errc() ? end : out;
  }
  const int64_t n = static_cast<int64_t>(whole) + (frac > 0.5 ? 1 : 0);
  out = put_int(out, n / unit);
  *out++ = '.';
  int64_t rest = n % unit;
  for (int i = decimals - 1; i >= 0; --i, rest /= 10) out[i] = static_cast<char>('0' + rest % 10);
  return out + decimals;
}

inline void append_fixed(std::string& out, double v, int decimals) {
  char buf[kFixedRoom];
  out.append(buf, put_fixed(buf, v, decimals));
}

}  // namespace hydra
