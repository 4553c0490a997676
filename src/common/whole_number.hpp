#pragma once
// A number that is the whole of a text: std::from_chars over all of it, nothing left over (no
// space, no sign it does not read, no trailing unit). No exceptions, no locale.
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <system_error>

namespace hydra {

template <class T>
std::optional<T> whole_number(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;  // ("" too)
  return value;
}

// The same, a finite floating-point number ("inf", "nan" and "1e999" are not).
inline std::optional<double> finite_number(std::string_view text) {
  const auto value = whole_number<double>(text);
  return value && std::isfinite(*value) ? value : std::nullopt;
}

}  // namespace hydra
