#include "common/json.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

namespace hydra {

namespace json = boost::json;

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
  auto parsed = parse_json_object(text);
  if (auto* err = std::get_if<JsonError>(&parsed)) return *err;
  ModelBody out{std::move(std::get<json::object>(parsed)), {}};
  FieldReader r(out.body);
  out.model = r.string(key).value_or("");
  if (out.model.empty() && alt) out.model = r.string(alt).value_or("");
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

std::optional<double> TypedFields::number(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    type_error(key, JsonType::number);
    return std::nullopt;
  }
  boost::system::error_code ec;
  return v->to_number<double>(ec);
}

std::optional<int64_t> TypedFields::integer(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return std::nullopt;
  boost::system::error_code ec;
  if (v->is_number()) {
    auto i = v->to_number<int64_t>(ec);
    if (!ec) return i;
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

}  // namespace hydra
