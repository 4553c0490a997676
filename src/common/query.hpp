#pragma once
// URL query strings: ?a=1&b=x%3Ay. Values are decoded: %XX escapes, and '+' as a space.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace hydra {

// The decoded value of the first `key=` in `query` (without the '?'); nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

// A count given as `key=` (a whole number); `fallback` when absent or not one.
uint64_t query_count(std::string_view query, std::string_view key, uint64_t fallback);
// The first of `keys` given in `query` but not as a whole number ("" when none is), for a 400
// that names it.
std::string_view bad_count(std::string_view query, std::initializer_list<std::string_view> keys);

}  // namespace hydra
