#include "api/openai/models.hpp"

#include "common/model_name.hpp"
#include "common/whole_number.hpp"

namespace hydra::api::openai {

namespace json = boost::json;

namespace {

// Reads exactly `n` digits at `pos`.
std::optional<int> digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  return whole_number<int>(s.substr(pos, n));
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string_view name_of(const json::object& tag) {
  for (const char* key : {"name", "model"}) {
    const json::value* v = tag.if_contains(key);
    if (v && v->is_string() && !v->get_string().empty()) return v->get_string();
  }
  return {};
}

}  // namespace

std::optional<int64_t> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  auto hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
    return std::nullopt;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    auto oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (!oh || !om || s[pos + 3] != ':') return std::nullopt;
    offset = (s[pos] == '+' ? 1 : -1) * (*oh * 3600 + *om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  return days * 86400 + *hour * 3600 + *minute * 60 + *second - offset;
}

json::object model_entry(const json::object& tag) {
  int64_t created = 0;
  if (const json::value* m = tag.if_contains("modified_at"); m && m->is_string())
    created = parse_rfc3339(m->get_string()).value_or(0);
  json::object out;
  out["id"] = name_of(tag);
  out["object"] = "model";
  out["created"] = created;
  out["owned_by"] = "library";
  if (const json::value* kind = tag.if_contains("node_kind"); kind && kind->is_string()) {
    out["owned_by"] = "llamacpp";  // served by a llama.cpp llama-server node
    out["node_kind"] = *kind;
  }
  if (const json::value* sharded = tag.if_contains("sharded"); sharded && sharded->is_bool()) out["sharded"] = *sharded;
  return out;
}

json::object model_list(const json::array& tags) {
  json::array data;
  for (const auto& t : tags) {
    if (!t.is_object() || name_of(t.get_object()).empty()) continue;
    data.push_back(model_entry(t.get_object()));
  }
  json::object out;
  out["object"] = "list";
  out["data"] = std::move(data);
  return out;
}

Result<json::object> model_object(const json::array& tags, std::string_view id) {
  const std::string wanted = normalize_model_name(id);
  for (const auto& t : tags) {
    if (!t.is_object()) continue;
    std::string_view name = name_of(t.get_object());
    if (!name.empty() && (name == id || normalize_model_name(name) == wanted)) return model_entry(t.get_object());
  }
  return model_not_found(id);
}

}  // namespace hydra::api::openai
