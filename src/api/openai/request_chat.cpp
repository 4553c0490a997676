// /v1/chat/completions -> /api/chat: messages (string or content-part content, images as
// data: URLs, assistant tool calls, tool results), tools, response_format, sampling options.
#include "api/openai/request.hpp"

#include "api/openai/request_common.hpp"

#include <fmt/format.h>
#include <map>

namespace hydra::api::openai {

namespace json = boost::json;

namespace {

// tool_call_id -> function name, from the assistant messages seen so far: OpenAI tool
// results name only the call, Ollama's name the tool.
using ToolNames = std::map<std::string, std::string, std::less<>>;

// Content: a string, null, or an array of parts. Text parts are joined with newlines.
void read_content(Params& mp, json::object& out) {
  const json::value* v = mp.raw("content");
  std::string text;
  json::array images;
  if (v && v->is_string()) {
    text = v->get_string();
  } else if (v && v->is_array()) {
    const auto& parts = v->get_array();
    for (size_t j = 0; j < parts.size(); ++j) {
      const std::string where = mp.path(fmt::format("content[{}]", j));
      const json::object* part = parts[j].if_object();
      if (!part) {
        mp.fail(invalid_request(fmt::format("Invalid type for '{}': expected an object, but got {} instead.",
                                            where, json_kind(parts[j])),
                                where));
        return;
      }
      Params pp(*part, where);
      const std::string type = pp.string("type").value_or("");
      if (type == "text" || type == "refusal") {
        if (auto t = pp.string(type)) {
          if (!text.empty()) text += '\n';
          text += *t;
        }
      } else if (type == "image_url") {
        // {"url": "..."}; some clients send the URL string directly.
        std::optional<std::string> url;
        if (const json::value* iu = pp.raw("image_url"); iu && iu->is_string()) {
          url = std::string(iu->get_string());
        } else if (const json::object* io = pp.object("image_url")) {
          Params ip(*io, pp.path("image_url"));
          url = ip.string("url");
          if (ip.error) pp.fail(*ip.error);
        }
        if (url) {
          if (auto payload = detail::data_url_payload(*url, pp.path("image_url"), pp)) images.push_back(json::string(*payload));
        } else {
          pp.fail(invalid_request("an image_url part needs image_url.url", pp.path("image_url")));
        }
      } else {
        pp.fail(invalid_request(
            fmt::format("content part type '{}' is not supported (use 'text' or 'image_url')", type), pp.path("type")));
      }
      if (pp.error) {
        mp.fail(*pp.error);
        return;
      }
    }
  } else if (v) {
    mp.mistyped("content", "a string or an array of content parts");
    return;
  }
  out["content"] = std::move(text);
  if (!images.empty()) out["images"] = std::move(images);
}

// OpenAI {"id","type":"function","function":{"name","arguments":"<JSON text>"}} -> Ollama
// {"id","function":{"name","arguments":{...}}}.
void read_tool_calls(Params& mp, json::object& out, ToolNames& names) {
  const json::array* calls = mp.array("tool_calls");
  if (!calls || calls->empty()) return;
  json::array converted;
  for (size_t k = 0; k < calls->size(); ++k) {
    const std::string where = mp.path(fmt::format("tool_calls[{}]", k));
    const json::object* call = (*calls)[k].if_object();
    if (!call) {
      mp.fail(invalid_request(fmt::format("Invalid type for '{}': expected an object.", where), where));
      return;
    }
    Params cp(*call, where);
    auto id = cp.string("id");
    const json::object* fn = cp.object("function");
    if (!fn && !cp.error) cp.fail(invalid_request("a tool call needs a function", cp.path("function")));
    json::object ofn;
    if (fn) {
      Params fp(*fn, cp.path("function"));
      auto name = fp.string("name");
      if (!name && !fp.error) fp.fail(invalid_request("a tool call needs function.name", fp.path("name")));
      json::value parsed = detail::read_arguments(fp, "arguments");
      if (fp.error) cp.fail(*fp.error);
      if (name) {
        ofn["name"] = *name;
        if (id) names[*id] = *name;
      }
      ofn["arguments"] = std::move(parsed);
    }
    if (cp.error) {
      mp.fail(*cp.error);
      return;
    }
    json::object oc;
    if (id) oc["id"] = *id;
    oc["function"] = std::move(ofn);
    converted.push_back(std::move(oc));
  }
  out["tool_calls"] = std::move(converted);
}

std::optional<json::object> read_message(const json::value& v, size_t i, ToolNames& names, Params& p) {
  const std::string where = fmt::format("messages[{}]", i);
  const json::object* m = v.if_object();
  if (!m) {
    p.fail(invalid_request(
        fmt::format("Invalid type for '{}': expected an object, but got {} instead.", where, json_kind(v)), where));
    return std::nullopt;
  }
  Params mp(*m, where);
  std::string role = mp.string("role").value_or("");
  if (role.empty() && !mp.error) mp.fail(invalid_request("each message needs a role", mp.path("role")));
  if (role == "developer") role = "system";  // OpenAI's newer name for system instructions
  if (role == "function") role = "tool";     // the legacy function-calling result
  json::object out;
  out["role"] = role;
  read_content(mp, out);
  if (role == "assistant") {
    read_tool_calls(mp, out, names);
  } else if (role == "tool") {
    auto call_id = mp.string("tool_call_id");
    auto name = mp.string("name");
    if (!name && call_id) {
      if (auto it = names.find(*call_id); it != names.end()) name = it->second;
    }
    if (name) out["tool_name"] = *name;
    if (call_id) out["tool_call_id"] = *call_id;
  } else if (role != "system" && role != "user" && !mp.error) {
    mp.fail(invalid_request(fmt::format("Invalid value for '{}': '{}'; expected one of 'system', 'developer', "
                                        "'user', 'assistant', 'tool'.",
                                        mp.path("role"), role),
                            mp.path("role")));
  }
  if (mp.error) {
    p.fail(*mp.error);
    return std::nullopt;
  }
  return out;
}

// `tools` share their shape with Ollama's; checked just enough that the node's error, if
// any, is not the first sign of a malformed list.
void read_tools(Params& p, json::object& body) {
  const json::array* tools = p.array("tools");
  if (!tools || tools->empty()) return;
  for (size_t k = 0; k < tools->size(); ++k) {
    const std::string where = fmt::format("tools[{}]", k);
    const json::object* t = (*tools)[k].if_object();
    if (!t) {
      p.fail(invalid_request(fmt::format("Invalid type for '{}': expected an object.", where), where));
      return;
    }
    Params tp(*t, where);
    const json::object* fn = tp.object("function");
    if (fn) {
      Params fp(*fn, tp.path("function"));
      if (!fp.string("name") && !fp.error) fp.fail(invalid_request("a tool needs function.name", fp.path("name")));
      if (fp.error) tp.fail(*fp.error);
    } else if (!tp.error) {
      tp.fail(invalid_request("a tool needs a function", tp.path("function")));
    }
    if (tp.error) {
      p.fail(*tp.error);
      return;
    }
  }
  body["tools"] = *tools;
}

}  // namespace

Result<OllamaCall> chat_request(const json::object& in) {
  Params p(in);
  OllamaCall call;
  call.kind = Kind::chat;
  call.target = "/api/chat";
  detail::read_common(p, call);
  json::array messages;
  if (const json::array* given = p.array("messages")) {
    // Ollama treats no messages as "load the model"; OpenAI refuses them.
    if (given->empty()) p.fail(invalid_request("messages must not be empty", "messages"));
    ToolNames names;
    for (size_t i = 0; i < given->size() && !p.error; ++i) {
      if (auto m = read_message((*given)[i], i, names, p)) messages.push_back(std::move(*m));
    }
  } else {
    p.fail(invalid_request("you must provide messages", "messages"));
  }
  json::object& body = call.body;
  body["model"] = call.model;
  body["messages"] = std::move(messages);
  body["stream"] = call.stream;
  detail::read_options(p, body);
  detail::read_response_format(p, body);
  read_tools(p, body);
  if (p.error) return std::move(*p.error);
  return call;
}

}  // namespace hydra::api::openai
