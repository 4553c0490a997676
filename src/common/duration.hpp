#pragma once
// Ollama's duration conventions: Go duration strings ("5m", "1h30m", "250ms") and
// `keep_alive`, which may also be a number of seconds; negative means forever.
#include <boost/json/value.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace hydra {

// Parses a Go duration string ("300ms", "-1.5h", "2h45m"). Empty optional when malformed.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s);

// Renders a duration the way Go prints it for simple cases ("5m0s", "1.5s").
std::string format_go_duration(std::chrono::nanoseconds d);

struct KeepAlive {
  bool forever = false;
  std::chrono::nanoseconds duration{0};  // 0 = unload as soon as idle
};

// Interprets a request's `keep_alive`. Null/absent -> fallback. Error text when malformed,
// worded like Ollama's.
struct KeepAliveResult {
  std::optional<KeepAlive> value;
  std::string error;
};
KeepAliveResult parse_keep_alive(const boost::json::value* v, KeepAlive fallback);

}  // namespace hydra
