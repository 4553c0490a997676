#include "common/duration.hpp"

#include "common/whole_number.hpp"

#include <cmath>
#include <fmt/format.h>

namespace hydra {
namespace {

struct Unit {
  std::string_view name;
  double nanos;
};
constexpr Unit kUnits[] = {{"ns", 1},          {"us", 1e3},         {"µs", 1e3},  {"ms", 1e6},
                           {"s", 1e9},         {"m", 60e9},         {"h", 3600e9}};

}  // namespace

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s.front() == '-' || s.front() == '+') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return std::nullopt;
  double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    bool digits = false;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
      digits |= s[i] != '.';
      ++i;
    }
    if (!digits) return std::nullopt;
    const auto number = whole_number<double>(s.substr(0, i));
    if (!number) return std::nullopt;  // "1.2.3s", as Go says
    s.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      // Longest match first matters for "ms" vs "m": "ms" is listed before "m".
      if (s.substr(0, u.name.size()) == u.name && (!unit || u.name.size() > unit->name.size()))
        unit = &u;
    }
    if (!unit) return std::nullopt;  // Go: "missing unit in duration"
    s.remove_prefix(unit->name.size());
    total += *number * unit->nanos;
  }
  if (total > 9.2e18) return std::nullopt;
  auto ns = std::chrono::nanoseconds(static_cast<int64_t>(std::llround(total)));
  return negative ? -ns : ns;
}

std::string format_go_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  if (d == nanoseconds(0)) return "0s";
  std::string sign = d < nanoseconds(0) ? "-" : "";
  auto abs = d < nanoseconds(0) ? -d : d;
  if (abs < seconds(1)) return sign + fmt::format("{}ms", duration<double, std::milli>(abs).count());
  auto h = duration_cast<hours>(abs);
  auto m = duration_cast<minutes>(abs - h);
  double s = duration<double>(abs - h - m).count();
  std::string out = sign;
  if (h.count()) out += fmt::format("{}h", h.count());
  if (h.count() || m.count()) out += fmt::format("{}m", m.count());
  out += fmt::format("{}s", s);
  return out;
}

KeepAliveResult parse_keep_alive(const boost::json::value* v, KeepAlive fallback) {
  if (!v || v->is_null()) return {fallback, {}};
  auto from_nanos = [](double ns) -> KeepAliveResult {
    if (!std::isfinite(ns)) return {std::nullopt, "invalid keep_alive: not a finite number"};
    // Negative, or longer than 64 bits of nanoseconds (292 years) can hold: forever. Never an
    // out-of-range conversion to int64.
    if (ns < 0 || ns >= 9.2e18) return {KeepAlive{true, {}}, {}};
    return {KeepAlive{false, std::chrono::nanoseconds(static_cast<int64_t>(ns))}, {}};
  };
  if (v->is_number()) {
    boost::system::error_code ec;
    double seconds = v->to_number<double>(ec);
    if (ec) return {std::nullopt, "invalid keep_alive"};
    return from_nanos(seconds * 1e9);
  }
  if (v->is_string()) {
    std::string_view text = v->get_string();
    auto parsed = parse_go_duration(text);
    if (!parsed) {
      // Ollama also accepts a bare number string as seconds. (from_chars: no exception on the
      // data path, and no locale.)
      std::string_view number = text;
      if (number.starts_with('+') && !number.starts_with("+-")) number.remove_prefix(1);  // as Go's ParseFloat
      if (const auto seconds = whole_number<double>(number)) return from_nanos(*seconds * 1e9);
      return {std::nullopt, fmt::format("time: invalid duration \"{}\"", text)};
    }
    return from_nanos(static_cast<double>(parsed->count()));
  }
  return {std::nullopt, "json: cannot unmarshal keep_alive: expected a number or a duration string"};
}

}  // namespace hydra
