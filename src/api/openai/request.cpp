// Request translation shared by all three endpoints, and the completion and embedding
// requests (chat messages are in request_chat.cpp).
#include "api/openai/request.hpp"

#include "api/openai/request_common.hpp"
#include "common/json.hpp"
#include "common/limits.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

namespace hydra::api::openai {

namespace json = boost::json;

namespace detail {

void read_model(Params& p, OllamaCall& call) {
  // A name longer than any model's is refused before it is routed, logged or counted. A type
  // or length error comes first; fail() keeps it.
  if (auto model = p.string("model", limits::kNameBytes); model && !model->empty()) call.model = std::move(*model);
  else p.fail(invalid_request("you must provide a model parameter", "model"));
}

void read_common(Params& p, OllamaCall& call) {
  // A wrong type is reported by string(); fail() keeps that first error.
  read_model(p, call);
  call.stream = p.boolean("stream").value_or(false);
  if (const json::object* so = p.object("stream_options")) {
    Params sp(*so, "stream_options");
    call.include_usage = sp.boolean("include_usage").value_or(false);
    if (sp.error) p.fail(*sp.error);
  }
  // Ollama answers one choice per request; pretending otherwise would silently return fewer.
  if (auto n = p.integer("n"); n && *n != 1)
    p.fail(invalid_request(fmt::format("n = {} is not supported: Hydra returns one choice per request", *n), "n"));
}

// `stop`: a string or a list of strings; Ollama wants a list.
static void read_stop(Params& p, json::object& options) {
  const json::value* stop = p.raw("stop");
  if (!stop) return;
  json::array list;
  if (stop->is_string()) {
    list.push_back(stop->get_string());
  } else if (stop->is_array()) {
    for (const auto& s : stop->get_array()) {
      if (!s.is_string()) {
        p.fail(invalid_request(fmt::format("Invalid type for 'stop': expected a string or an array of strings, "
                                           "but the array holds {}.", json_kind(s)),
                               "stop"));
        return;
      }
      list.push_back(s);
    }
  } else {
    p.mistyped("stop", "a string or an array of strings");
    return;
  }
  if (!list.empty()) options["stop"] = std::move(list);
}

void read_options(Params& p, json::object& body) {
  json::object options;
  // max_completion_tokens replaced max_tokens in OpenAI's chat API; it wins when both are set.
  // Ranges are OpenAI's own; a token count beyond 32 bits would overflow llama.cpp's.
  auto max_tokens = p.integer("max_tokens", 1, limits::kTokens);
  if (auto mct = p.integer("max_completion_tokens", 1, limits::kTokens)) max_tokens = mct;
  if (max_tokens) options["num_predict"] = *max_tokens;
  struct Range {
    const char* key;
    double min, max;
  };
  for (const Range& r : {Range{"temperature", 0, 2}, Range{"top_p", 0, 1}, Range{"frequency_penalty", -2, 2},
                         Range{"presence_penalty", -2, 2}})
    if (auto v = p.number(r.key, r.min, r.max)) options[r.key] = *v;
  if (auto seed = p.integer("seed")) options["seed"] = *seed;
  read_stop(p, options);
  if (!options.empty()) body["options"] = std::move(options);
}

void read_response_format(Params& p, json::object& body) {
  const json::object* rf = p.object("response_format");
  if (!rf) return;
  Params fp(*rf, "response_format");
  std::string type = fp.string("type").value_or("");
  if (type == "json_object") {
    body["format"] = "json";
  } else if (type == "json_schema") {
    const json::object* js = fp.object("json_schema");
    const json::object* schema = nullptr;
    if (js) {
      Params sp(*js, "response_format.json_schema");
      schema = sp.object("schema");
      if (sp.error) fp.fail(*sp.error);
    }
    if (schema) body["format"] = *schema;
    else fp.fail(invalid_request("response_format json_schema needs json_schema.schema (an object)",
                                 "response_format.json_schema.schema"));
  } else if (type != "text") {
    fp.fail(invalid_request(
        fmt::format("Invalid value for 'response_format.type': '{}'; expected 'text', 'json_object' or 'json_schema'.",
                    type),
        "response_format.type"));
  }
  if (fp.error) p.fail(*fp.error);
}

std::optional<std::string> data_url_payload(std::string_view url, const std::string& param, Params& p) {
  constexpr std::string_view marker = ";base64,";
  const auto at = url.find(marker);
  if (!url.starts_with("data:") || at == std::string_view::npos) {
    p.fail(invalid_request("image_url must be a data: URL with base64 content (data:image/png;base64,...); "
                           "remote image URLs are not supported",
                           param));
    return std::nullopt;
  }
  return std::string(url.substr(at + marker.size()));
}

json::value read_arguments(Params& p, std::string_view key) {
  const json::value* args = p.raw(key);
  if (args && args->is_object()) return *args;  // lenient: some clients send the object itself
  if (args && !args->is_string()) {
    p.mistyped(key, "a string");
    return json::object();
  }
  // Empty arguments mean "no arguments"; anything else must be the JSON object text.
  if (!args || args->get_string().empty()) return json::object();
  boost::system::error_code ec;
  json::value parsed = json::parse(args->get_string(), ec);
  if (ec || !parsed.is_object()) {
    p.fail(invalid_request(fmt::format("{} must be a JSON object encoded as a string", p.path(key)), p.path(key)));
    return json::object();
  }
  return parsed;
}

}  // namespace detail

using detail::read_common;
using detail::read_model;
using detail::read_options;

static Result<json::object> parse_body(std::string_view text) {
  auto parsed = parse_json_object(text);
  if (auto* err = std::get_if<JsonError>(&parsed))
    return invalid_request(fmt::format("could not parse the JSON body of the request: {}", err->message));
  return std::move(std::get<json::object>(parsed));
}

template <class F>
static Result<OllamaCall> from_text(std::string_view text, F translate) {
  auto body = parse_body(text);
  if (auto* err = std::get_if<Error>(&body)) return std::move(*err);
  return translate(std::get<json::object>(body));
}

Result<OllamaCall> chat_request(std::string_view body) {
  return from_text(body, [](const json::object& o) { return chat_request(o); });
}
Result<OllamaCall> completion_request(std::string_view body) {
  return from_text(body, [](const json::object& o) { return completion_request(o); });
}
Result<OllamaCall> embedding_request(std::string_view body) {
  return from_text(body, [](const json::object& o) { return embedding_request(o); });
}

Result<OllamaCall> responses_request(std::string_view body) {
  return from_text(body, [](const json::object& o) { return responses_request(o); });
}

Result<OllamaCall> translate_request(Kind kind, std::string_view body) {
  switch (kind) {
    case Kind::chat: return chat_request(body);
    case Kind::completion: return completion_request(body);
    case Kind::embedding: return embedding_request(body);
    case Kind::responses: return responses_request(body);
  }
  return invalid_request("unknown endpoint");
}

// `prompt`: a string, or a list holding one string. Several prompts would need several
// choices (see n); token ids would need the model's tokenizer.
static std::optional<std::string> read_prompt(Params& p) {
  const json::value* v = p.raw("prompt");
  if (!v) {
    p.fail(invalid_request("you must provide a prompt", "prompt"));
    return std::nullopt;
  }
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_array()) {
    const auto& a = v->get_array();
    if (a.size() == 1 && a[0].is_string()) return std::string(a[0].get_string());
    const bool tokens = !a.empty() && (a[0].is_number() || a[0].is_array());
    p.fail(invalid_request(tokens ? "prompt as token ids is not supported: send the prompt as text"
                                  : "prompt must be a string or a list of one string (one prompt per request)",
                           "prompt"));
    return std::nullopt;
  }
  p.mistyped("prompt", "a string or an array of strings");
  return std::nullopt;
}

Result<OllamaCall> completion_request(const json::object& in) {
  Params p(in);
  OllamaCall call;
  call.kind = Kind::completion;
  call.target = "/api/generate";
  read_common(p, call);
  auto prompt = read_prompt(p);
  auto suffix = p.string("suffix");
  json::object& body = call.body;
  body["model"] = call.model;
  body["prompt"] = prompt.value_or("");
  if (suffix && !suffix->empty()) body["suffix"] = *suffix;
  body["stream"] = call.stream;
  read_options(p, body);
  if (p.error) return std::move(*p.error);
  return call;
}

// `input`: a string or a list of strings (not empty, no token ids).
static void read_input(Params& p, json::object& body) {
  const json::value* v = p.raw("input");
  if (!v) {
    p.fail(invalid_request("you must provide an input", "input"));
    return;
  }
  if (v->is_string()) {
    body["input"] = v->get_string();
    return;
  }
  if (!v->is_array()) {
    p.mistyped("input", "a string or an array of strings");
    return;
  }
  const auto& a = v->get_array();
  if (a.empty()) {
    p.fail(invalid_request("input must not be an empty array", "input"));
    return;
  }
  for (const auto& item : a) {
    if (item.is_number() || item.is_array()) {
      p.fail(invalid_request("input as token ids is not supported: send the input as text (a string or "
                             "an array of strings)",
                             "input"));
      return;
    }
    if (!item.is_string()) {
      p.fail(invalid_request(fmt::format("Invalid type for 'input': the array holds {}; expected strings.",
                                         json_kind(item)),
                             "input"));
      return;
    }
  }
  body["input"] = a;
}

Result<OllamaCall> embedding_request(const json::object& in) {
  Params p(in);
  OllamaCall call;
  call.kind = Kind::embedding;
  call.target = "/api/embed";
  read_model(p, call);
  call.body["model"] = call.model;
  read_input(p, call.body);
  if (auto dims = p.integer("dimensions", 1, limits::kTokens)) call.body["dimensions"] = *dims;
  std::string format = p.string("encoding_format").value_or("float");
  if (format == "base64") call.encoding = EmbeddingEncoding::base64;
  else if (format != "float")
    p.fail(invalid_request(
        fmt::format("Invalid value for 'encoding_format': '{}'; expected 'float' or 'base64'.", format),
        "encoding_format"));
  if (p.error) return std::move(*p.error);
  return call;
}

}  // namespace hydra::api::openai
