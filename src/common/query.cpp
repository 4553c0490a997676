#include "common/query.hpp"

#include "common/percent.hpp"
#include "common/whole_number.hpp"

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

uint64_t query_count(std::string_view query, std::string_view key, uint64_t fallback) {
  const auto text = query_param(query, key);
  const auto v = text ? whole_number<uint64_t>(*text) : std::nullopt;
  return v.value_or(fallback);
}

std::string_view bad_count(std::string_view query, std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys)
    if (const auto text = key.empty() ? std::nullopt : query_param(query, key); text && !whole_number<uint64_t>(*text))
      return key;
  return {};
}

}  // namespace hydra
