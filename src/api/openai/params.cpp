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

void Params::mistyped(std::string_view key, std::string_view expected) {
  const json::value* v = obj.if_contains(key);
  std::string p = path(key);
  fail(invalid_request(fmt::format("Invalid type for '{}': expected {}, but got {} instead.", p, expected,
                                   v ? json_kind(*v) : "nothing"),
                       p));
}

void Params::type_error(std::string_view key, JsonType expected) {
  // OpenAI's own words for the types.
  static constexpr const char* words[] = {"a string", "a boolean", "a decimal", "an integer", "an object", "an array"};
  mistyped(key, words[static_cast<int>(expected)]);
}

void Params::range_error(std::string_view key, std::string_view rule) {
  std::string p = path(key);
  fail(invalid_request(fmt::format("Invalid value for '{}': must be {}.", p, rule), p));
}

}  // namespace hydra::api::openai
