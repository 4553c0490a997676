#include "api/llama/request.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace hydra::api::llama {

namespace json = boost::json;

namespace {

const json::value* field(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::string text_of(const json::value* v) { return v && v->is_string() ? std::string(v->get_string()) : std::string(); }

// Ollama's images are bare base64; an OpenAI image part wants a data URL.
json::object image_part(std::string_view base64) {
  json::object url;
  url["url"] = "data:image/png;base64," + std::string(base64);
  json::object part;
  part["type"] = "image_url";
  part["image_url"] = std::move(url);
  return part;
}

// content, with the message's images as parts after the text.
json::value content_of(const json::object& m) {
  const json::value* images = field(m, "images");
  std::string text = text_of(field(m, "content"));
  if (!images || !images->is_array() || images->get_array().empty()) return json::value(text);
  json::array parts;
  json::object t;
  t["type"] = "text";
  t["text"] = text;
  parts.push_back(std::move(t));
  for (const auto& i : images->get_array())
    if (i.is_string()) parts.push_back(image_part(i.get_string()));
  return parts;
}

// Ollama tool calls {function:{name, arguments:{...}}} -> OpenAI {id, type, function:{name,
// arguments:"{...}"}}.
json::array tool_calls_of(const json::array& calls) {
  json::array out;
  std::size_t n = 0;
  for (const auto& c : calls) {
    const json::object* co = c.if_object();
    const json::value* fn = co ? field(*co, "function") : nullptr;
    if (!fn || !fn->is_object()) continue;
    json::object function;
    function["name"] = text_of(field(fn->get_object(), "name"));
    const json::value* args = field(fn->get_object(), "arguments");
    function["arguments"] = args ? (args->is_string() ? std::string(args->get_string()) : json::serialize(*args)) : "{}";
    json::object call;
    call["id"] = "call_" + std::to_string(n++);
    call["type"] = "function";
    call["function"] = std::move(function);
    out.push_back(std::move(call));
  }
  return out;
}

std::variant<json::array, std::string> messages_of(const json::value* list) {
  json::array out;
  if (!list) return out;
  if (!list->is_array()) return std::string("messages must be an array");
  for (const auto& item : list->get_array()) {
    const json::object* m = item.if_object();
    if (!m) return std::string("each message must be an object");
    json::object msg;
    const std::string role = text_of(field(*m, "role"));
    if (role.empty()) return std::string("a message has no role");
    msg["role"] = role;
    msg["content"] = content_of(*m);
    if (const auto* calls = field(*m, "tool_calls"); calls && calls->is_array() && !calls->get_array().empty())
      msg["tool_calls"] = tool_calls_of(calls->get_array());
    out.push_back(std::move(msg));
  }
  return out;
}

// Ollama's options (and format) onto llama-server's sampling fields. `predict_key` is
// max_tokens (chat) or n_predict (/completion).
void copy_options(const json::object& request, json::object& out, std::string_view predict_key) {
  if (const json::value* o = field(request, "options"); o && o->is_object()) {
    for (const auto& [key, value] : o->get_object()) {
      if (key == "num_predict") {
        if (value.is_int64() && value.get_int64() >= 0) out[predict_key] = value;  // -1, -2: no limit
      } else if (key == "temperature" || key == "top_k" || key == "top_p" || key == "min_p" || key == "seed" ||
                 key == "stop" || key == "repeat_penalty" || key == "presence_penalty" || key == "frequency_penalty" ||
                 key == "typical_p" || key == "repeat_last_n" || key == "mirostat" || key == "mirostat_tau" ||
                 key == "mirostat_eta") {
        out[key] = value;
      }
      // num_ctx, num_gpu, num_thread...: fixed when the server started.
    }
  }
  if (const json::value* format = field(request, "format")) {
    json::object rf;
    if (format->is_string() && format->get_string() == "json") {
      rf["type"] = "json_object";
    } else if (format->is_object()) {
      json::object schema;
      schema["name"] = "format";
      schema["schema"] = *format;
      rf["type"] = "json_schema";
      rf["json_schema"] = std::move(schema);
    }
    if (!rf.empty()) {
      if (predict_key == "n_predict") out["json_schema"] = format->is_object() ? *format : json::value(json::object());
      else out["response_format"] = std::move(rf);
    }
  }
}

}  // namespace

bool translatable(std::string_view path) { return path == "/api/chat" || path == "/api/generate"; }

std::variant<Translated, std::string> translate_request(std::string_view path, std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return std::string("the request body is not a JSON object");
  return translate_request(path, doc.get_object());
}

std::variant<Translated, std::string> translate_request(std::string_view path, const json::object& request) {
  Translated t;
  t.model = text_of(field(request, "model"));
  if (const json::value* s = field(request, "stream"); s && s->is_bool()) t.stream = s->get_bool();
  json::object out;
  out["model"] = t.model;
  out["stream"] = t.stream;
  if (path == "/api/chat") {
    auto messages = messages_of(field(request, "messages"));
    if (auto* error = std::get_if<std::string>(&messages)) return *error;
    auto& list = std::get<json::array>(messages);
    t.load_only = list.empty();
    out["messages"] = std::move(list);
    if (const json::value* tools = field(request, "tools"); tools && tools->is_array() && !tools->get_array().empty())
      out["tools"] = *tools;
    t.mode = Mode::chat;
  } else if (path == "/api/generate") {
    if (field(request, "suffix") && !text_of(field(request, "suffix")).empty())
      return std::string("suffix (fill-in-the-middle) is not supported by llama-server nodes");
    const std::string prompt = text_of(field(request, "prompt"));
    t.load_only = prompt.empty();
    const json::value* raw = field(request, "raw");
    if (raw && raw->is_bool() && raw->get_bool()) {
      t.mode = Mode::completion;
      out["prompt"] = prompt;
      copy_options(request, out, "n_predict");
      out["cache_prompt"] = true;
      t.target = "/completion";
      t.body = json::serialize(out);
      return t;
    }
    json::array messages;
    if (std::string system = text_of(field(request, "system")); !system.empty()) {
      json::object m;
      m["role"] = "system";
      m["content"] = system;
      messages.push_back(std::move(m));
    }
    json::object user;  // an Ollama message, to shape as the chat ones are
    user["content"] = prompt;
    if (const json::value* images = field(request, "images")) user["images"] = *images;
    json::object shaped;
    shaped["role"] = "user";
    shaped["content"] = content_of(user);
    messages.push_back(std::move(shaped));
    out["messages"] = std::move(messages);
    t.mode = Mode::generate;
  } else {
    return std::string("only /api/chat and /api/generate reach llama-server nodes");
  }
  copy_options(request, out, "max_tokens");
  if (t.stream) {
    json::object so;
    so["include_usage"] = true;  // the token counts come in a last chunk only when asked for
    out["stream_options"] = std::move(so);
  }
  t.target = "/v1/chat/completions";
  t.body = json::serialize(out);
  return t;
}

}  // namespace hydra::api::llama
