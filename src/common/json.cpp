#include "common/json.hpp"

#include "common/limits.hpp"

#include <boost/json/parse.hpp>
#include <cmath>
#include <fmt/format.h>

namespace hydra {

namespace json = boost::json;

namespace {
// 1000000 rather than 1e+06; 0.5 as 0.5.
std::string plain(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15) return fmt::format("{}", static_cast<int64_t>(d));
  return fmt::format("{:g}", d);
}
}  // namespace

std::variant<json::object, JsonError> parse_json_object(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return JsonError{"missing request body"};
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return JsonError{fmt::format("invalid JSON: {}", ec.message())};
  if (!v.is_object()) return JsonError{"invalid JSON: expected an object"};
  return std::move(v.as_object());
}

std::variant<ModelBody, JsonError> parse_model_body(std::string_view text, const char* key, const char* alt) {
  auto arena = std::make_unique<JsonArena>();
  auto parsed = parse_json_object_capped(text, std::size_t{64} * 1024, json::storage_ptr(&arena->resource));
  if (auto* err = std::get_if<JsonError>(&parsed)) return *err;
  ModelBody out{std::move(arena), std::move(std::get<json::object>(parsed)), {}};
  FieldReader r(out.body);
  out.model = r.string(key, limits::kNameBytes).value_or("");
  if (out.model.empty() && alt) out.model = r.string(alt, limits::kNameBytes).value_or("");
  if (r.error) return *r.error;
  if (out.model.empty()) return JsonError{"model is required"};
  return out;
}

const json::value* TypedFields::raw(std::string_view key) const {
  const json::value* v = obj.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

void FieldReader::type_error(std::string_view key, JsonType expected) {
  static constexpr const char* words[] = {"a string", "true or false", "a number", "an integer", "an object", "an array"};
  if (!error) error = JsonError{fmt::format("invalid value for \"{}\": expected {}", key, words[static_cast<int>(expected)])};
}

void FieldReader::range_error(std::string_view key, std::string_view rule) {
  if (!error) error = JsonError{fmt::format("invalid value for \"{}\": must be {}", key, rule)};
}

std::optional<std::string> TypedFields::string(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    type_error(key, JsonType::string);
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::optional<bool> TypedFields::boolean(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return std::nullopt;
  if (!v->is_bool()) {
    type_error(key, JsonType::boolean);
    return std::nullopt;
  }
  return v->get_bool();
}

std::optional<double> TypedFields::number(std::string_view key) { return number_value(key, raw(key)); }

std::optional<double> TypedFields::number(std::string_view key, double min, double max) {
  return number_value(key, raw(key), min, max);
}

std::optional<double> TypedFields::number_value(std::string_view key, const json::value* v) {
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number()) {
    type_error(key, JsonType::number);
    return std::nullopt;
  }
  boost::system::error_code ec;
  double d = v->to_number<double>(ec);
  if (ec || !std::isfinite(d)) {
    range_error(key, "a finite number");
    return std::nullopt;
  }
  return d;
}

std::optional<double> TypedFields::number_value(std::string_view key, const json::value* v, double min, double max) {
  auto d = number_value(key, v);
  if (d && (*d < min || *d > max)) {
    range_error(key, fmt::format("a number from {} to {}", plain(min), plain(max)));
    return std::nullopt;
  }
  return d;
}

std::optional<int64_t> TypedFields::integer(std::string_view key, int64_t min, int64_t max) {
  auto i = integer(key);
  if (i && (*i < min || *i > max)) {
    range_error(key, fmt::format("an integer from {} to {}", min, max));
    return std::nullopt;
  }
  return i;
}

std::optional<std::string> TypedFields::string(std::string_view key, std::size_t max_bytes) {
  const json::value* v = raw(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    type_error(key, JsonType::string);
    return std::nullopt;
  }
  if (v->get_string().size() > max_bytes) {
    range_error(key, fmt::format("at most {} bytes long", max_bytes));
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::optional<int64_t> TypedFields::integer(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return std::nullopt;
  boost::system::error_code ec;
  if (v->is_number()) {
    auto i = v->to_number<int64_t>(ec);
    if (!ec) return i;
    // A whole number too large for 64 bits (or an infinity) is the right kind, out of range.
    const bool whole = v->is_uint64() || (v->is_double() && (!std::isfinite(v->get_double()) ||
                                                             v->get_double() == std::floor(v->get_double())));
    if (whole) {
      range_error(key, "an integer that fits in 64 bits");
      return std::nullopt;
    }
  }
  type_error(key, JsonType::integer);
  return std::nullopt;
}

const json::object* TypedFields::object(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return nullptr;
  if (!v->is_object()) {
    type_error(key, JsonType::object);
    return nullptr;
  }
  return &v->get_object();
}

const json::array* TypedFields::array(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return nullptr;
  if (!v->is_array()) {
    type_error(key, JsonType::array);
    return nullptr;
  }
  return &v->get_array();
}

void add_numbers(boost::json::object& into, const boost::json::object& from) {
  for (const auto& [key, value] : from) {
    auto it = into.find(key);
    if (it == into.end()) {
      into[key] = value;
      continue;
    }
    boost::json::value& mine = it->value();
    if (mine.is_object() && value.is_object()) add_numbers(mine.get_object(), value.get_object());
    else if (mine.is_int64() && value.is_int64()) mine = mine.get_int64() + value.get_int64();
    else if (mine.is_uint64() && value.is_uint64()) mine = mine.get_uint64() + value.get_uint64();
    else if (mine.is_int64() && value.is_uint64()) mine = mine.get_int64() + static_cast<int64_t>(value.get_uint64());
    else if (mine.is_uint64() && value.is_int64()) mine = static_cast<int64_t>(mine.get_uint64()) + value.get_int64();
  }
}

}  // namespace hydra
