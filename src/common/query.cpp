#include "common/query.hpp"

#include "common/percent.hpp"

#include <algorithm>

namespace hydra {

namespace {
// A form value: '+' is a space (an encoded plus, %2B, stays a plus), then %XX escapes.
std::string decode_value(std::string_view s) {
  std::string spaced(s);
  std::replace(spaced.begin(), spaced.end(), '+', ' ');
  return percent_decode(spaced);
}
}  // namespace

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    if (part.size() > key.size() && part.starts_with(key) && part[key.size()] == '=')
      return decode_value(part.substr(key.size() + 1));
    if (part == key) return std::string();
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace hydra
