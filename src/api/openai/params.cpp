#include "api/openai/params.hpp"

#include <fmt/format.h>

namespace hydra::api::openai {

namespace json = boost::json;

std::string_view json_kind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64: return "an integer";
    case json::kind::double_: return "a decimal";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

std::string Params::path(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : fmt::format("{}.{}", prefix_, key);
}

void Params::fail(Error e) {
  if (!error) error = std::move(e);
}

void Params::type_error(std::string_view key, std::string_view expected) {
  const json::value* v = obj_.if_contains(key);
  std::string p = path(key);
  fail(invalid_request(fmt::format("Invalid type for '{}': expected {}, but got {} instead.", p, expected,
                                   v ? json_kind(*v) : "nothing"),
                       p));
}

const json::value* Params::raw(std::string_view key) const {
  const json::value* v = obj_.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

std::optional<std::string> Params::string(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    type_error(key, "a string");
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::optional<bool> Params::boolean(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return std::nullopt;
  if (!v->is_bool()) {
    type_error(key, "a boolean");
    return std::nullopt;
  }
  return v->get_bool();
}

std::optional<double> Params::number(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    type_error(key, "a decimal");
    return std::nullopt;
  }
  boost::system::error_code ec;
  return v->to_number<double>(ec);
}

std::optional<int64_t> Params::integer(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return std::nullopt;
  boost::system::error_code ec;
  if (v->is_number()) {
    // 3.0 is accepted as 3 (to_number refuses a fraction or an out-of-range value).
    auto i = v->to_number<int64_t>(ec);
    if (!ec) return i;
  }
  type_error(key, "an integer");
  return std::nullopt;
}

const json::object* Params::object(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return nullptr;
  if (!v->is_object()) {
    type_error(key, "an object");
    return nullptr;
  }
  return &v->get_object();
}

const json::array* Params::array(std::string_view key) {
  const json::value* v = raw(key);
  if (!v) return nullptr;
  if (!v->is_array()) {
    type_error(key, "an array");
    return nullptr;
  }
  return &v->get_array();
}

}  // namespace hydra::api::openai
