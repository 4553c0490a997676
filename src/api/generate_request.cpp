#include "api/generate_request.hpp"

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
  r.model = f.string("model").value_or("");
  r.system = f.string("system").value_or("");
  if (const json::array* context = f.array("context")) r.context = *context;
  r.temperature = f.number("temperature");
  r.max_tokens = f.integer("max_tokens");
  r.stream = f.boolean("stream").value_or(false);
  r.route.node_id = f.string("node_id").value_or("");
  r.route.prefer_local = f.boolean("prefer_local").value_or(false);
  auto min_vram = f.number("min_vram_gb");
  auto priority = f.integer("priority");
  if (f.error) return *f.error;
  if (!prompt || prompt->empty()) return JsonError{"prompt is required"};
  r.prompt = std::move(*prompt);
  if (r.max_tokens && *r.max_tokens < 1) return JsonError{"max_tokens must be at least 1"};
  if (r.temperature && (*r.temperature < 0 || *r.temperature > 2)) return JsonError{"temperature must be between 0 and 2"};
  if (min_vram && *min_vram < 0) return JsonError{"min_vram_gb must not be negative"};
  r.route.min_vram_gb = min_vram.value_or(0);
  if (priority && (*priority < 1 || *priority > 10)) return JsonError{"priority must be an integer from 1 to 10"};
  r.route.priority = static_cast<int>(priority.value_or(5));
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
