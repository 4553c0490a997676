#include "api/ollama_request.hpp"

#include "common/duration.hpp"
#include "common/limits.hpp"
#include "memory/policy.hpp"

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
  const json::value* predict = nullptr;  // found in the pass below, not looked up each
  const json::value* ctx = nullptr;
  for (const auto& kv : o) {
    if (kv.key() == "num_predict") predict = &kv.value();
    else if (kv.key() == "num_ctx") ctx = &kv.value();
  }
  // The bounded two first, then every number (the first error found is the one answered).
  NestedReader r(o, "options");
  r.number_value("num_predict", predict, -2, static_cast<double>(limits::kTokens));
  r.number_value("num_ctx", ctx, 0, static_cast<double>(limits::kTokens));
  for (const auto& kv : o)
    if (kv.value().is_number()) r.number_value(kv.key(), &kv.value());  // finite: a JSON 1e400 parses as infinity
  return r.error;
}

bool changes_residency(const OllamaFields& fields) {
  const json::value* prompt = fields.prompt;
  const json::value* messages = fields.messages;
  const bool empty_prompt = (!prompt || (prompt->is_string() && prompt->get_string().empty())) &&
                            (!messages || (messages->is_array() && messages->get_array().empty()));
  return empty_prompt || fields.keep_alive;
}

OllamaFacts facts_of(const OllamaFields& fields, std::string model, bool texts) {
  const auto text_of = [](const json::value* v) {
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
  };
  OllamaFacts out;
  out.model = std::move(model);
  out.changes_residency = changes_residency(fields);
  out.names_sampling = memory::options_name_sampling(fields.options);
  if (fields.keep_alive && !fields.keep_alive->is_null())
    out.keep_alive = parse_keep_alive(fields.keep_alive, KeepAlive{}).value;
  if (!texts) return out;
  out.prompt = text_of(fields.prompt);
  out.system = text_of(fields.system);
  out.messages_array = fields.messages && fields.messages->is_array();
  if (out.messages_array)
    for (const auto& m : fields.messages->get_array())
      if (const json::object* message = m.if_object())
        out.messages.push_back({text_of(message->if_contains("role")), text_of(message->if_contains("content"))});
  return out;
}

}  // namespace hydra::api
