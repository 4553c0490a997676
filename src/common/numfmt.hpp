#pragma once
// Numbers appended to a string by hand (std::to_chars), for text made per request (the access
// log's line, a routing reason): no format string to interpret.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace hydra {

inline void append_int(std::string& out, int64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// `v` with `decimals` (1 to 6) digits after the point, as "{:.Nf}" writes it: by integer
// arithmetic, except values next to a tie (where the exact binary value decides), negative
// ones and ones out of range, which take the exact conversion.
inline void append_fixed(std::string& out, double v, int decimals) {
  int64_t unit = 1;
  for (int i = 0; i < decimals; ++i) unit *= 10;
  const double scaled = v * static_cast<double>(unit);
  const double whole = std::floor(scaled);
  const double frac = scaled - whole;
  if (!(whole >= 0 && whole < 9e15) || std::fabs(frac - 0.5) < 1e-6) {
    char buf[352];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
    out.append(buf, ec == std::errc() ? end : buf);
    return;
  }
  const int64_t n = static_cast<int64_t>(whole) + (frac > 0.5 ? 1 : 0);
  append_int(out, n / unit);
  out += '.';
  char digits[8];
  int64_t rest = n % unit;
  for (int i = decimals - 1; i >= 0; --i, rest /= 10) digits[i] = static_cast<char>('0' + rest % 10);
  out.append(digits, static_cast<std::size_t>(decimals));
}

}  // namespace hydra
