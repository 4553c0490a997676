#include "sim/llama_request.hpp"

namespace hydra::sim {

namespace json = boost::json;

namespace {

void read_common(FieldReader& r, LlamaRequest& req) {
  req.model = r.string("model").value_or("");
  req.stream = r.boolean("stream").value_or(false);
  req.seed = static_cast<uint64_t>(r.integer("seed").value_or(0));
}

// A message's text: a string, or the text parts of an array of parts.
std::optional<std::string> content_text(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  if (content.is_null()) return std::string();
  if (!content.is_array()) return std::nullopt;
  std::string text;
  for (const auto& part : content.get_array()) {
    const json::object* p = part.if_object();
    const json::value* type = p ? p->if_contains("type") : nullptr;
    if (!type || !type->is_string()) return std::nullopt;
    if (type->get_string() != "text") continue;  // images and audio: the sim has no eyes
    const json::value* t = p->if_contains("text");
    if (!t || !t->is_string()) return std::nullopt;
    if (!text.empty()) text += "\n";
    text += t->get_string();
  }
  return text;
}

}  // namespace

std::variant<LlamaRequest, JsonError> parse_completion_request(std::string_view body) {
  auto parsed = parse_json_object(body);
  if (auto* err = std::get_if<JsonError>(&parsed)) return *err;
  const auto& obj = std::get<json::object>(parsed);
  FieldReader r{obj};
  LlamaRequest req;
  read_common(r, req);
  const json::value* prompt = r.raw("prompt");
  if (!prompt) return JsonError{"\"prompt\" must be provided"};
  if (!prompt->is_string()) return JsonError{"\"prompt\" must be a string (token arrays are not emulated)"};
  req.prompt = prompt->get_string();
  append_tokens(req.rendered, "prompt", req.prompt);
  req.n_predict = r.integer("n_predict");
  if (r.error) return *r.error;
  return req;
}

std::variant<LlamaRequest, JsonError> parse_chat_request(std::string_view body) {
  auto parsed = parse_json_object(body);
  if (auto* err = std::get_if<JsonError>(&parsed)) return *err;
  const auto& obj = std::get<json::object>(parsed);
  FieldReader r{obj};
  LlamaRequest req;
  req.chat = true;
  read_common(r, req);
  const json::value* messages = r.raw("messages");
  if (!messages) return JsonError{"'messages' is required"};
  if (!messages->is_array() || messages->get_array().empty())
    return JsonError{"Expected 'messages' to be a non-empty array"};
  const auto& list = messages->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::object* mo = list[i].if_object();
    const json::value* role = mo ? mo->if_contains("role") : nullptr;
    if (!role || !role->is_string()) return JsonError{"Missing 'role' in message"};
    const json::value* content = mo->if_contains("content");
    if (!content) return JsonError{"Missing 'content' in message"};
    auto text = content_text(*content);
    if (!text) return JsonError{"Invalid 'content' type in message"};
    append_tokens(req.rendered, role->get_string(), *text);
    if (text->empty()) continue;
    if (i + 1 == list.size() && role->get_string() == "assistant") {  // assistant prefill: gone on with
      req.partial = *text;
      continue;
    }
    if (!req.prompt.empty()) req.prompt += "\n";
    req.prompt += *text;
  }
  for (const char* key : {"max_completion_tokens", "max_tokens", "n_predict"})
    if (auto n = r.integer(key)) req.n_predict = n;
  if (const json::object* options = r.object("stream_options")) {
    FieldReader o{*options};
    req.include_usage = o.boolean("include_usage").value_or(false);
    if (o.error) return *o.error;
  }
  if (r.error) return *r.error;
  return req;
}

}  // namespace hydra::sim
