#include "api/ollama_request.hpp"

#include "common/duration.hpp"
#include "common/limits.hpp"

#include <cmath>
#include <fmt/format.h>

namespace hydra::api {

namespace json = boost::json;

namespace {

// A FieldReader whose errors name the field by its path inside the body.
struct NestedReader final : TypedFields {
  NestedReader(const json::object& o, std::string_view prefix) : TypedFields(o), prefix(prefix) {}
  std::string_view prefix;
  std::optional<JsonError> error;

protected:
  void type_error(std::string_view key, JsonType) override { range_error(key, "a number"); }
  void range_error(std::string_view key, std::string_view rule) override {
    if (!error) error = JsonError{fmt::format("invalid value for \"{}.{}\": must be {}", prefix, key, rule)};
  }
};

}  // namespace

std::optional<JsonError> check_ollama_numbers(const json::object& body) {
  if (const json::value* keep = body.if_contains("keep_alive")) {
    auto parsed = parse_keep_alive(keep, KeepAlive{});
    if (!parsed.value) return JsonError{fmt::format("invalid value for \"keep_alive\": {}", parsed.error)};
  }
  const json::value* options = body.if_contains("options");
  if (!options || options->is_null()) return std::nullopt;
  if (!options->is_object()) return JsonError{"invalid value for \"options\": expected an object"};
  NestedReader r(options->get_object(), "options");
  r.number("num_predict", -2, static_cast<double>(limits::kTokens));
  r.number("num_ctx", 0, static_cast<double>(limits::kTokens));
  for (const auto& [key, value] : options->get_object())
    if (value.is_number()) r.number(key);  // finite: a JSON 1e400 parses as infinity
  return r.error;
}

}  // namespace hydra::api
