// Non-streamed replies: chat.completion, text_completion, embedding lists; reply contexts,
// tool-call conversion and the base64 embedding encoding.
#include "api/openai/response.hpp"

#include "api/openai/responses.hpp"
#include "api/openai/tool_calls.hpp"
#include "common/hash.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstring>
#include <fmt/format.h>
#include <random>

namespace hydra::api::openai {

namespace json = boost::json;

namespace {

constexpr std::string_view kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

std::string alnum(SplitMix& rng, size_t n) {
  std::string out(n, 'x');
  for (auto& c : out) c = kAlnum[rng.below(kAlnum.size())];
  return out;
}

std::string_view id_prefix(Kind kind) {
  switch (kind) {
    case Kind::chat: return "chatcmpl-";
    case Kind::completion: return "cmpl-";
    case Kind::embedding: return "embd-";  // embeddings carry no id; kept for logs
    case Kind::responses: return "resp_";
  }
  return "";
}

int64_t int_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_number()) return 0;
  boost::system::error_code ec;
  auto i = v->to_number<int64_t>(ec);
  return ec ? 0 : i;
}

json::object envelope(const ReplyContext& ctx, std::string_view object) {
  json::object o;
  o["id"] = ctx.id;
  o["object"] = object;
  o["created"] = ctx.created;
  o["model"] = ctx.model;
  // Ollama's own OpenAI layer says the same; clients that log it see where answers came from.
  o["system_fingerprint"] = "fp_ollama";
  return o;
}

}  // namespace

using detail::string_field;

ReplyContext reply_context(const OllamaCall& call, std::string id, int64_t created) {
  return ReplyContext{call.kind, std::move(id), created, call.model, call.include_usage, call.encoding, call.echo};
}

ReplyContext reply_context(const OllamaCall& call) {
  // Ids only need to be unique, not secret: one generator per thread, seeded once.
  thread_local SplitMix rng(std::random_device{}() ^
                            static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return reply_context(call, std::string(id_prefix(call.kind)) + alnum(rng, 24),
                       std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

std::string_view finish_reason(std::string_view done_reason, bool called_tools) {
  if (called_tools) return "tool_calls";
  return done_reason == "length" ? "length" : "stop";
}

namespace detail {

std::string string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string derived_id(std::string_view prefix, std::string_view seed, size_t index) {
  SplitMix rng(fnv1a(fmt::format("{}#{}", seed, index)));
  return std::string(prefix) + alnum(rng, 24);
}

json::array tool_calls(const json::array& ollama, const ReplyContext& ctx, size_t first_index, bool with_index) {
  json::array out;
  for (size_t k = 0; k < ollama.size(); ++k) {
    const json::object* call = ollama[k].if_object();
    if (!call) continue;
    const size_t index = first_index + k;
    std::string id = string_field(*call, "id");
    if (id.empty()) id = derived_id("call_", ctx.id, index);
    // Every converted call has a name and arguments, even from a node's call without a
    // function (the Responses API's events read both).
    const json::value* f = call->if_contains("function");
    const json::object* function = f ? f->if_object() : nullptr;
    json::object fn;
    fn["name"] = function ? string_field(*function, "name") : std::string();
    const json::value* args = function ? function->if_contains("arguments") : nullptr;
    // OpenAI's arguments are JSON text; Ollama's an object.
    if (args && args->is_string()) fn["arguments"] = args->get_string();
    else if (args && !args->is_null()) fn["arguments"] = json::serialize(*args);
    else fn["arguments"] = "{}";
    json::object oc;
    if (with_index) oc["index"] = index;
    oc["id"] = std::move(id);
    oc["type"] = "function";
    oc["function"] = std::move(fn);
    out.push_back(std::move(oc));
  }
  return out;
}

json::object usage(const json::object& reply) {
  const int64_t prompt = int_field(reply, "prompt_eval_count");
  const int64_t completion = int_field(reply, "eval_count");
  json::object u;
  u["prompt_tokens"] = prompt;
  u["completion_tokens"] = completion;
  u["total_tokens"] = prompt + completion;
  return u;
}

}  // namespace detail

json::object chat_completion(const json::object& reply, const ReplyContext& ctx) {
  json::object message;
  message["role"] = "assistant";
  std::string content;
  std::string thinking;
  json::array calls;
  if (const json::value* m = reply.if_contains("message"); m && m->is_object()) {
    content = string_field(m->get_object(), "content");
    thinking = string_field(m->get_object(), "thinking");
    if (const json::value* tc = m->get_object().if_contains("tool_calls"); tc && tc->is_array())
      calls = detail::tool_calls(tc->get_array(), ctx, 0, false);
  }
  // OpenAI sends null content alongside tool calls.
  if (content.empty() && !calls.empty()) message["content"] = nullptr;
  else message["content"] = content;
  // Ollama's own OpenAI layer names a thinking model's reasoning "reasoning".
  if (!thinking.empty()) message["reasoning"] = thinking;
  const bool called = !calls.empty();
  if (called) message["tool_calls"] = std::move(calls);

  json::object choice;
  choice["index"] = 0;
  choice["message"] = std::move(message);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason(string_field(reply, "done_reason"), called);
  json::object out = envelope(ctx, "chat.completion");
  out["choices"] = json::array{std::move(choice)};
  out["usage"] = detail::usage(reply);
  return out;
}

json::object text_completion(const json::object& reply, const ReplyContext& ctx) {
  json::object choice;
  choice["index"] = 0;
  choice["text"] = string_field(reply, "response");
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason(string_field(reply, "done_reason"), false);
  json::object out = envelope(ctx, "text_completion");
  out["choices"] = json::array{std::move(choice)};
  out["usage"] = detail::usage(reply);
  return out;
}

std::string base64_float32(const json::array& numbers) {
  static constexpr char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  bytes.reserve(numbers.size() * 4);
  for (const auto& n : numbers) {
    boost::system::error_code ec;
    const float f = n.is_number() ? static_cast<float>(n.to_number<double>(ec)) : 0.0f;
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<char>((bits >> shift) & 0xff));
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t chunk = 0;
    for (size_t k = 0; k < 3; ++k)
      chunk = (chunk << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    out.push_back(kDigits[(chunk >> 18) & 63]);
    out.push_back(kDigits[(chunk >> 12) & 63]);
    out.push_back(n > 1 ? kDigits[(chunk >> 6) & 63] : '=');
    out.push_back(n > 2 ? kDigits[chunk & 63] : '=');
  }
  return out;
}

Result<json::object> embedding_list(const json::object& reply, const ReplyContext& ctx) {
  const json::value* e = reply.if_contains("embeddings");
  if (!e || !e->is_array()) return make_error(502, "the node's embedding reply has no \"embeddings\" list");
  json::array data;
  const auto& rows = e->get_array();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].is_array()) return make_error(502, "the node's embedding reply holds a non-list embedding");
    for (const auto& x : rows[i].get_array())
      if (!x.is_number()) return make_error(502, "the node's embedding reply holds a non-number");
    json::object item;
    item["object"] = "embedding";
    item["index"] = i;
    if (ctx.encoding == EmbeddingEncoding::base64) item["embedding"] = base64_float32(rows[i].get_array());
    else item["embedding"] = rows[i];
    data.push_back(std::move(item));
  }
  const int64_t tokens = int_field(reply, "prompt_eval_count");
  json::object u;
  u["prompt_tokens"] = tokens;
  u["total_tokens"] = tokens;
  json::object out;
  out["object"] = "list";
  out["data"] = std::move(data);
  out["model"] = ctx.model;
  out["usage"] = std::move(u);
  return out;
}

HttpReply translate_reply(const ReplyContext& ctx, int status, std::string_view ollama_body) {
  auto failed = [](const Error& e) { return HttpReply{e.status, error_body(e)}; };
  if (status < 200 || status > 299) return failed(from_ollama_error(status, ollama_body));
  boost::system::error_code ec;
  json::value v = json::parse(ollama_body, ec);
  if (ec || !v.is_object()) return failed(make_error(502, "the node's reply is not a JSON object"));
  const json::object& reply = v.get_object();
  // Ollama can answer 200 with an error object (e.g. a failure after the head went out).
  if (const json::value* e = reply.if_contains("error"); e && e->is_string())
    return failed(from_ollama_message(500, std::string(e->get_string())));
  switch (ctx.kind) {
    case Kind::chat: return {200, json::serialize(chat_completion(reply, ctx))};
    case Kind::completion: return {200, json::serialize(text_completion(reply, ctx))};
    case Kind::responses: return {200, json::serialize(response_object(reply, ctx))};
    case Kind::embedding: {
      auto list = embedding_list(reply, ctx);
      if (auto* err = std::get_if<Error>(&list)) return failed(*err);
      return {200, json::serialize(std::get<json::object>(list))};
    }
  }
  return failed(make_error(500, "unknown reply kind"));
}

}  // namespace hydra::api::openai
