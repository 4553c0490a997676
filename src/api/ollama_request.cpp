#include "api/ollama_request.hpp"

#include "common/duration.hpp"
#include "common/limits.hpp"

#include <cmath>
#include <fmt/format.h>

namespace hydra::api {

namespace json = boost::json;

namespace {

JsonError options_error(std::string_view key, std::string_view rule) {
  return JsonError{fmt::format("invalid value for \"options.{}\": must be {}", key, rule)};
}

// options.`key`'s value (null: absent) as a number: finite, and from `min` to `max` when bounded.
std::optional<JsonError> option_number(std::string_view key, const json::value* v, bool bounded = false,
                                       int64_t min = 0, int64_t max = 0) {
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number()) return options_error(key, "a number");
  boost::system::error_code ec;
  const double d = v->to_number<double>(ec);
  if (ec || !std::isfinite(d)) return options_error(key, "a finite number");
  if (bounded && (d < static_cast<double>(min) || d > static_cast<double>(max)))
    return options_error(key, fmt::format("a number from {} to {}", min, max));
  return std::nullopt;
}

}  // namespace

OllamaFields::OllamaFields(const json::object& body) {
  for (const auto& kv : body) {
    const std::string_view key = kv.key();
    const json::value* v = &kv.value();
    switch (key.size()) {
      case 6:
        if (key == "prompt") prompt = v;
        else if (key == "system") system = v;
        break;
      case 7: if (key == "options") options = v; break;
      case 8: if (key == "messages") messages = v; break;
      case 10: if (key == "keep_alive") keep_alive = v; break;
      default: break;
    }
  }
}

std::optional<JsonError> check_ollama_numbers(const OllamaFields& fields) {
  if (fields.keep_alive) {
    auto parsed = parse_keep_alive(fields.keep_alive, KeepAlive{});
    if (!parsed.value) return JsonError{fmt::format("invalid value for \"keep_alive\": {}", parsed.error)};
  }
  const json::value* options = fields.options;
  if (!options || options->is_null()) return std::nullopt;
  if (!options->is_object()) return JsonError{"invalid value for \"options\": expected an object"};
  const json::object& o = options->get_object();
  const json::value* predict = nullptr;
  const json::value* ctx = nullptr;
  for (const auto& kv : o) {
    if (kv.key() == "num_predict") predict = &kv.value();
    else if (kv.key() == "num_ctx") ctx = &kv.value();
  }
  // The bounded two first, then every number (the first error found is the one answered).
  if (auto e = option_number("num_predict", predict, true, -2, static_cast<int64_t>(limits::kTokens))) return e;
  if (auto e = option_number("num_ctx", ctx, true, 0, static_cast<int64_t>(limits::kTokens))) return e;
  for (const auto& kv : o)
    if (kv.value().is_number())  // finite: a JSON 1e400 parses as infinity
      if (auto e = option_number(kv.key(), &kv.value())) return e;
  return std::nullopt;
}

bool changes_residency(const OllamaFields& fields) {
  const json::value* prompt = fields.prompt;
  const json::value* messages = fields.messages;
  const bool empty_prompt = (!prompt || (prompt->is_string() && prompt->get_string().empty())) &&
                            (!messages || (messages->is_array() && messages->get_array().empty()));
  return empty_prompt || fields.keep_alive;
}

}  // namespace hydra::api
