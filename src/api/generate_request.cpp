#include "api/generate_request.hpp"

#include "common/limits.hpp"

#include <boost/json/serialize.hpp>

namespace hydra::api {

namespace json = boost::json;

std::variant<GenerateRequest, JsonError> parse_generate_request(std::string_view text) {
  auto parsed = parse_json_object(text);
  if (auto* err = std::get_if<JsonError>(&parsed)) return *err;
  const auto& body = std::get<json::object>(parsed);
  FieldReader f(body);
  GenerateRequest r;
  auto prompt = f.string("prompt");
  r.model = f.string("model", limits::kNameBytes).value_or("");
  r.system = f.string("system").value_or("");
  if (const json::array* context = f.array("context")) r.context = *context;
  r.temperature = f.number("temperature", 0, 2);
  r.max_tokens = f.integer("max_tokens", 1, limits::kTokens);
  r.stream = f.boolean("stream").value_or(false);
  r.route.node_id = f.string("node_id", limits::kNameBytes).value_or("");
  r.route.prefer_local = f.boolean("prefer_local").value_or(false);
  r.route.min_vram_gb = f.number("min_vram_gb", 0, limits::kVramGb).value_or(0);
  // Bounded before the cast: the int holds 1..10.
  r.route.priority = static_cast<int>(f.integer("priority", limits::kMinPriority, limits::kMaxPriority).value_or(5));
  if (f.error) return *f.error;
  if (!prompt || prompt->empty()) return JsonError{"prompt is required"};
  r.prompt = std::move(*prompt);
  return r;
}

std::string ollama_generate_body(const GenerateRequest& r, const std::string& model) {
  json::object body;
  body["model"] = model;
  body["prompt"] = r.prompt;
  if (!r.system.empty()) body["system"] = r.system;
  if (!r.context.empty()) body["context"] = r.context;
  body["stream"] = true;
  json::object options;
  if (r.temperature) options["temperature"] = *r.temperature;
  if (r.max_tokens) options["num_predict"] = *r.max_tokens;
  if (!options.empty()) body["options"] = std::move(options);
  return json::serialize(body);
}

}  // namespace hydra::api
