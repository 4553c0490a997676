// /v1/responses -> /api/chat. `input` is a string (one user message) or a list of items:
// messages (role user/assistant/system/developer; content a string or input_text/output_text/
// input_image parts), function_call items (-> an assistant message's tool_calls, consecutive
// calls in one message) and function_call_output items (-> tool messages). `instructions` is a
// leading system message; function tools use the Responses' flat shape {type, name,
// description, parameters}. Stateless: previous_response_id and conversation are a 400.
#include "api/openai/request.hpp"

#include "api/openai/request_common.hpp"
#include "common/limits.hpp"

#include <fmt/format.h>
#include <map>

namespace hydra::api::openai {

namespace json = boost::json;

namespace {

// call_id -> function name, from the function_call items seen so far: Ollama's tool results
// name the tool, the Responses' only the call.
using ToolNames = std::map<std::string, std::string, std::less<>>;

constexpr std::string_view kStateless =
    "Hydra does not store responses: every request is stateless, so send the whole conversation in `input`";

// A list of content parts -> text (joined with newlines) and base64 images.
void read_parts(Params& p, std::string_view key, const json::array& parts, std::string& text, json::array& images) {
  for (size_t j = 0; j < parts.size() && !p.error; ++j) {
    const std::string where = p.path(fmt::format("{}[{}]", key, j));
    const json::object* part = parts[j].if_object();
    if (!part) {
      p.fail(invalid_request(
          fmt::format("Invalid type for '{}': expected an object, but got {} instead.", where, json_kind(parts[j])),
          where));
      return;
    }
    Params pp(*part, where);
    const std::string type = pp.string("type").value_or("");
    std::optional<std::string> piece;
    if (type == "input_text" || type == "output_text" || type == "text") {
      piece = pp.string("text");
    } else if (type == "refusal") {
      piece = pp.string("refusal");
    } else if (type == "input_image") {
      if (auto url = pp.string("image_url")) {
        if (auto payload = detail::data_url_payload(*url, pp.path("image_url"), pp))
          images.push_back(json::string(*payload));
      } else if (!pp.error) {
        pp.fail(invalid_request(pp.raw("file_id") ? "input_image by file_id is not supported: send the image as a "
                                                    "data: URL in image_url"
                                                  : "an input_image part needs image_url",
                                pp.path("image_url")));
      }
    } else if (!pp.error) {
      pp.fail(invalid_request(fmt::format("content part type '{}' is not supported (use 'input_text', "
                                          "'output_text' or 'input_image')",
                                          type),
                              pp.path("type")));
    }
    if (piece) {
      if (!text.empty()) text += '\n';
      text += *piece;
    }
    if (pp.error) p.fail(*pp.error);
  }
}

// `key` of an item: a string, or a list of content parts. Fills out's content (and images).
void read_content(Params& ip, std::string_view key, json::object& out) {
  std::string text;
  json::array images;
  const json::value* v = ip.raw(key);
  if (v && v->is_string()) text = v->get_string();
  else if (v && v->is_array()) read_parts(ip, key, v->get_array(), text, images);
  else if (v) ip.mistyped(key, "a string or an array of content parts");
  out["content"] = std::move(text);
  if (!images.empty()) out["images"] = std::move(images);
}

class Conversation {
public:
  json::array messages;

  void message(Params& ip) {
    std::string role = ip.string("role").value_or("");
    if (role == "developer") role = "system";  // OpenAI's newer name for system instructions
    if (role != "user" && role != "assistant" && role != "system" && !ip.error) {
      ip.fail(invalid_request(fmt::format("Invalid value for '{}': '{}'; expected one of 'user', 'assistant', "
                                          "'system', 'developer'.",
                                          ip.path("role"), role),
                              ip.path("role")));
      return;
    }
    json::object out;
    out["role"] = role;
    read_content(ip, "content", out);
    messages.push_back(std::move(out));
  }

  // An earlier call of the model: consecutive calls go into one assistant message, as the
  // model made them in one turn.
  void function_call(Params& ip) {
    auto call_id = ip.string("call_id");
    auto name = ip.string("name");
    if (!name && !ip.error) ip.fail(invalid_request("a function_call item needs name", ip.path("name")));
    json::value args = detail::read_arguments(ip, "arguments");
    if (ip.error) return;
    json::object fn;
    fn["name"] = *name;
    fn["arguments"] = std::move(args);
    json::object call;
    if (call_id) {
      call["id"] = *call_id;
      names_[*call_id] = *name;
    }
    call["function"] = std::move(fn);
    json::object* last = messages.empty() ? nullptr : messages.back().if_object();
    const json::value* role = last ? last->if_contains("role") : nullptr;
    if (!role || !role->is_string() || role->get_string() != "assistant") {
      messages.push_back(json::object{{"role", "assistant"}, {"content", ""}});
      last = &messages.back().as_object();
    }
    json::value& calls = (*last)["tool_calls"];
    if (!calls.is_array()) calls = json::array();
    calls.as_array().push_back(std::move(call));
  }

  // A function's result, for the call with that call_id.
  void function_call_output(Params& ip) {
    auto call_id = ip.string("call_id");
    if (!call_id && !ip.error) ip.fail(invalid_request("a function_call_output item needs call_id", ip.path("call_id")));
    json::object out;
    out["role"] = "tool";
    read_content(ip, "output", out);
    if (ip.error) return;
    if (auto it = names_.find(*call_id); it != names_.end()) out["tool_name"] = it->second;
    out["tool_call_id"] = *call_id;
    messages.push_back(std::move(out));
  }

private:
  ToolNames names_;
};

void read_item(const json::value& v, size_t i, Conversation& conv, Params& p) {
  const std::string where = fmt::format("input[{}]", i);
  const json::object* item = v.if_object();
  if (!item) {
    p.fail(invalid_request(
        fmt::format("Invalid type for '{}': expected an object, but got {} instead.", where, json_kind(v)), where));
    return;
  }
  Params ip(*item, where);
  std::string type = ip.string("type").value_or("");
  if (type.empty() && item->contains("role")) type = "message";  // the short form {role, content}
  if (type == "message") conv.message(ip);
  else if (type == "function_call") conv.function_call(ip);
  else if (type == "function_call_output") conv.function_call_output(ip);
  else if (type == "reasoning") {
    // A model's earlier reasoning: nodes have no use for its summary; left out.
  } else if (type == "item_reference" && !ip.error) {
    ip.fail(invalid_request(fmt::format("item_reference is not supported: {}", kStateless), ip.path("type")));
  } else if (!ip.error) {
    ip.fail(invalid_request(
        type.empty() ? std::string("each input item needs a type (or a role, for a message)")
                     : fmt::format("input item type '{}' is not supported (use 'message', 'function_call' or "
                                   "'function_call_output')",
                                   type),
        ip.path("type")));
  }
  if (ip.error) p.fail(*ip.error);
}

json::array read_input(Params& p) {
  Conversation conv;
  const json::value* v = p.raw("input");
  if (!v) {
    p.fail(invalid_request("you must provide an input", "input"));
  } else if (v->is_string()) {
    conv.messages.push_back(json::object{{"role", "user"}, {"content", v->get_string()}});
  } else if (v->is_array()) {
    const auto& items = v->get_array();
    for (size_t i = 0; i < items.size() && !p.error; ++i) read_item(items[i], i, conv, p);
  } else {
    p.mistyped("input", "a string or an array of input items");
  }
  return std::move(conv.messages);
}

// Responses tools {type:"function", name, description, parameters} -> Ollama's {type,
// function:{name, description, parameters}}. The chat shape is taken as it is.
json::array read_tools(Params& p) {
  json::array out;
  const json::array* tools = p.array("tools");
  if (!tools) return out;
  for (size_t k = 0; k < tools->size() && !p.error; ++k) {
    const std::string where = fmt::format("tools[{}]", k);
    const json::object* t = (*tools)[k].if_object();
    if (!t) {
      p.fail(invalid_request(fmt::format("Invalid type for '{}': expected an object.", where), where));
      return out;
    }
    Params tp(*t, where);
    const std::string type = tp.string("type").value_or("");
    if (type != "function") {
      if (!tp.error)
        tp.fail(invalid_request(
            fmt::format("tool type '{}' is not supported: Hydra's nodes call function tools only", type),
            tp.path("type")));
    } else if (tp.object("function")) {
      out.push_back(*t);
    } else {
      json::object fn;
      if (auto name = tp.string("name")) fn["name"] = *name;
      else if (!tp.error) tp.fail(invalid_request("a function tool needs a name", tp.path("name")));
      if (auto description = tp.string("description")) fn["description"] = *description;
      if (const json::object* parameters = tp.object("parameters")) fn["parameters"] = *parameters;
      out.push_back(json::object{{"type", "function"}, {"function", std::move(fn)}});
    }
    if (tp.error) p.fail(*tp.error);
  }
  return out;
}

// text.format: {type:"text"} (nothing), {type:"json_object"} (-> "json") or
// {type:"json_schema", schema} (-> the schema).
void read_text_format(Params& p, json::object& body) {
  const json::object* text = p.object("text");
  if (!text) return;
  Params tp(*text, "text");
  if (const json::object* format = tp.object("format")) {
    Params fp(*format, "text.format");
    const std::string type = fp.string("type").value_or("text");
    if (type == "json_object") {
      body["format"] = "json";
    } else if (type == "json_schema") {
      if (const json::object* schema = fp.object("schema")) body["format"] = *schema;
      else if (!fp.error)
        fp.fail(invalid_request("text.format json_schema needs schema (an object)", fp.path("schema")));
    } else if (type != "text" && !fp.error) {
      fp.fail(invalid_request(fmt::format("Invalid value for 'text.format.type': '{}'; expected 'text', "
                                          "'json_object' or 'json_schema'.",
                                          type),
                              fp.path("type")));
    }
    if (fp.error) tp.fail(*fp.error);
  }
  if (tp.error) p.fail(*tp.error);
}

// Fields that need a stored response, or work Hydra does not do, are refused by name.
void refuse_stateful(Params& p) {
  if (p.raw("previous_response_id"))
    p.fail(invalid_request(fmt::format("previous_response_id is not supported: {}", kStateless),
                           "previous_response_id"));
  if (p.raw("conversation"))
    p.fail(invalid_request(fmt::format("conversation is not supported: {}", kStateless), "conversation"));
  if (p.boolean("background").value_or(false))
    p.fail(invalid_request("background responses are not supported: Hydra answers while the client waits",
                           "background"));
}

// What the Response object repeats: the request's own values, or OpenAI's defaults.
json::object echo_of(const json::object& in) {
  auto given = [&](std::string_view key, json::value fallback) {
    const json::value* v = in.if_contains(key);
    return v && !v->is_null() ? *v : fallback;
  };
  json::object echo;
  echo["instructions"] = given("instructions", nullptr);
  echo["max_output_tokens"] = given("max_output_tokens", nullptr);
  echo["parallel_tool_calls"] = given("parallel_tool_calls", true);
  json::object reasoning{{"effort", nullptr}, {"summary", nullptr}};
  if (const json::value* r = in.if_contains("reasoning"); r && r->is_object())
    for (const auto& [k, v] : r->get_object()) reasoning[k] = v;
  echo["reasoning"] = std::move(reasoning);
  echo["temperature"] = given("temperature", nullptr);
  echo["text"] = given("text", json::object{{"format", json::object{{"type", "text"}}}});
  echo["tool_choice"] = given("tool_choice", "auto");
  echo["tools"] = given("tools", json::array());
  echo["top_p"] = given("top_p", nullptr);
  echo["truncation"] = given("truncation", "disabled");
  echo["user"] = given("user", nullptr);
  echo["metadata"] = given("metadata", json::object());
  return echo;
}

}  // namespace

Result<OllamaCall> responses_request(const json::object& in) {
  Params p(in);
  OllamaCall call;
  call.kind = Kind::responses;
  call.target = "/api/chat";
  detail::read_model(p, call);
  call.stream = p.boolean("stream").value_or(false);
  refuse_stateful(p);
  json::array messages;
  if (auto instructions = p.string("instructions"); instructions && !instructions->empty())
    messages.push_back(json::object{{"role", "system"}, {"content", *instructions}});
  for (auto& m : read_input(p)) messages.push_back(std::move(m));
  json::array tools = read_tools(p);
  // tool_choice "none": the model may not call any, so it is not shown them. Other choices
  // ("auto", "required", a named function) cannot be enforced on a node and are left to it.
  const json::value* choice = p.raw("tool_choice");
  const bool no_tools = choice && choice->is_string() && choice->get_string() == "none";

  json::object& body = call.body;
  body["model"] = call.model;
  body["messages"] = std::move(messages);
  body["stream"] = call.stream;
  if (!tools.empty() && !no_tools) body["tools"] = std::move(tools);
  json::object options;
  if (auto max = p.integer("max_output_tokens", 1, limits::kTokens)) options["num_predict"] = *max;
  if (auto t = p.number("temperature", 0, 2)) options["temperature"] = *t;
  if (auto t = p.number("top_p", 0, 1)) options["top_p"] = *t;
  if (!options.empty()) body["options"] = std::move(options);
  read_text_format(p, body);
  if (const json::object* reasoning = p.object("reasoning")) {
    // Ollama's `think`: false turns a thinking model's reasoning off, a level sets its effort.
    Params rp(*reasoning, "reasoning");
    if (auto effort = rp.string("effort")) {
      if (*effort == "none" || *effort == "minimal") body["think"] = false;
      else if (*effort == "low" || *effort == "medium" || *effort == "high") body["think"] = *effort;
      else if (!rp.error)
        rp.fail(invalid_request(fmt::format("Invalid value for 'reasoning.effort': '{}'; expected 'none', "
                                            "'minimal', 'low', 'medium' or 'high'.",
                                            *effort),
                                rp.path("effort")));
    }
    if (rp.error) p.fail(*rp.error);
  }
  if (!p.error && body["messages"].as_array().empty())
    p.fail(invalid_request("input must hold at least one message", "input"));
  if (p.error) return std::move(*p.error);
  call.echo = echo_of(in);
  return call;
}

}  // namespace hydra::api::openai
