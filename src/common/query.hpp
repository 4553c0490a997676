#pragma once
// URL query strings: ?a=1&b=x%3Ay. Percent-escapes are decoded; in a query a '+' is a space.
#include <optional>
#include <string>
#include <string_view>

namespace hydra {

// %XX decoded (a malformed escape is kept as it is); `plus_is_space` for query values.
std::string percent_decode(std::string_view s, bool plus_is_space = false);
// The decoded value of the first `key=` in `query` (without the '?'); nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

}  // namespace hydra
