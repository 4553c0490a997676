#include "common/percent.hpp"

#include <cctype>
#include <charconv>

namespace hydra {

std::string percent_encode(std::string_view segment) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string percent_decode(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    unsigned value = 0;
    const char* digits = segment.data() + i + 1;
    if (segment[i] == '%' && i + 3 <= segment.size() && std::isxdigit(static_cast<unsigned char>(digits[0])) &&
        std::isxdigit(static_cast<unsigned char>(digits[1]))) {
      std::from_chars(digits, digits + 2, value, 16);
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += segment[i];
    }
  }
  return out;
}

}  // namespace hydra
