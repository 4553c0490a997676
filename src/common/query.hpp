#pragma once
// URL query strings: ?a=1&b=x%3Ay. Values are decoded: %XX escapes, and '+' as a space.
#include <optional>
#include <string>
#include <string_view>

namespace hydra {

// The decoded value of the first `key=` in `query` (without the '?'); nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

}  // namespace hydra
