#include "api/llama/reply.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace hydra::api::llama {

namespace json = boost::json;

namespace {

std::string text_of(const json::value* v) { return v && v->is_string() ? std::string(v->get_string()) : std::string(); }

double number_of(const json::value* v) {
  if (!v) return 0;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return 0;
}

uint64_t count_of(const json::value* v) {
  const double n = number_of(v);
  return n > 0 ? static_cast<uint64_t>(n) : 0;
}

int64_t ns(double ms) { return static_cast<int64_t>(ms * 1e6); }

// OpenAI's finish_reason / llama.cpp's stop_type -> Ollama's done_reason.
std::string done_reason_of(std::string_view reason) {
  if (reason == "length" || reason == "limit") return "length";
  return "stop";
}

// An OpenAI tool call {function:{name, arguments:"{...}"}} -> Ollama's {function:{name,
// arguments:{...}}} (arguments that are not JSON stay a string).
json::object ollama_tool_call(std::string_view name, std::string_view arguments) {
  json::object function;
  function["name"] = name;
  boost::system::error_code ec;
  json::value args = json::parse(arguments.empty() ? std::string_view("{}") : arguments, ec);
  function["arguments"] = ec ? json::value(arguments) : std::move(args);
  json::object call;
  call["function"] = std::move(function);
  return call;
}

// One Ollama line (chat: a message; generate: a response), not done yet.
json::object ollama_line(Mode mode, std::string_view model, std::string_view created_at, std::string_view text,
                         std::string_view thinking) {
  json::object o;
  o["model"] = model;
  o["created_at"] = created_at;
  if (mode == Mode::chat) {
    json::object message;
    message["role"] = "assistant";
    message["content"] = text;
    if (!thinking.empty()) message["thinking"] = thinking;
    o["message"] = std::move(message);
  } else {
    o["response"] = text;
    if (!thinking.empty()) o["thinking"] = thinking;
  }
  o["done"] = false;
  return o;
}

}  // namespace

ReplyTranslator::ReplyTranslator(Mode mode, bool stream, std::string model, std::string created_at)
    : mode_(mode), stream_(stream), model_(std::move(model)), created_at_(std::move(created_at)) {}

json::object ReplyTranslator::line(std::string_view text, std::string_view thinking) const {
  return ollama_line(mode_, model_, created_at_, text, thinking);
}

void ReplyTranslator::take_stats(const json::object& o) {
  if (const auto* usage = o.if_contains("usage"); usage && usage->is_object()) {
    const auto& u = usage->get_object();
    if (u.contains("prompt_tokens")) prompt_eval_count_ = count_of(u.if_contains("prompt_tokens"));
    if (u.contains("completion_tokens")) eval_count_ = count_of(u.if_contains("completion_tokens"));
  }
  if (o.contains("tokens_evaluated")) prompt_eval_count_ = count_of(o.if_contains("tokens_evaluated"));
  if (o.contains("tokens_predicted")) eval_count_ = count_of(o.if_contains("tokens_predicted"));
  if (const auto* t = o.if_contains("timings"); t && t->is_object()) {
    const auto& timings = t->get_object();
    prompt_ms_ = number_of(timings.if_contains("prompt_ms"));
    predicted_ms_ = number_of(timings.if_contains("predicted_ms"));
    // Without usage, the timings count the tokens too.
    if (eval_count_ == 0) eval_count_ = count_of(timings.if_contains("predicted_n"));
    if (prompt_eval_count_ == 0) prompt_eval_count_ = count_of(timings.if_contains("prompt_n"));
  }
}

void ReplyTranslator::done_line(std::string& out) {
  if (done_) return;
  done_ = true;
  if (!tool_calls_.empty()) {
    json::object calls_line = line("", "");
    json::array calls;
    for (const auto& [index, call] : tool_calls_) calls.push_back(ollama_tool_call(call.name, call.arguments));
    calls_line["message"].as_object()["tool_calls"] = std::move(calls);
    out += json::serialize(calls_line);
    out += '\n';
  }
  json::object o = line("", "");
  o["done"] = true;
  o["done_reason"] = done_reason_;
  o["total_duration"] = ns(prompt_ms_ + predicted_ms_);
  o["load_duration"] = 0;
  o["prompt_eval_count"] = prompt_eval_count_;
  o["prompt_eval_duration"] = ns(prompt_ms_);
  o["eval_count"] = eval_count_;
  o["eval_duration"] = ns(predicted_ms_);
  out += json::serialize(o);
  out += '\n';
}

void ReplyTranslator::chat_chunk(const json::object& chunk, std::string& out) {
  take_stats(chunk);
  const json::value* choices = chunk.if_contains("choices");
  if (!choices || !choices->is_array()) return;
  for (const auto& c : choices->get_array()) {
    const json::object* choice = c.if_object();
    if (!choice) continue;
    if (const auto* delta = choice->if_contains("delta"); delta && delta->is_object()) {
      const auto& d = delta->get_object();
      const std::string text = text_of(d.if_contains("content"));
      const std::string thinking = text_of(d.if_contains("reasoning_content"));
      if (!text.empty() || !thinking.empty()) {
        out += json::serialize(line(text, thinking));
        out += '\n';
      }
      if (const auto* calls = d.if_contains("tool_calls"); calls && calls->is_array())
        for (const auto& call : calls->get_array()) {
          const json::object* co = call.if_object();
          if (!co) continue;
          ToolCall& tc = tool_calls_[static_cast<int64_t>(number_of(co->if_contains("index")))];
          if (const auto* fn = co->if_contains("function"); fn && fn->is_object()) {
            tc.name += text_of(fn->get_object().if_contains("name"));
            tc.arguments += text_of(fn->get_object().if_contains("arguments"));
          }
        }
    }
    if (const auto* reason = choice->if_contains("finish_reason"); reason && reason->is_string())
      done_reason_ = done_reason_of(reason->get_string());
  }
}

void ReplyTranslator::completion_chunk(const json::object& chunk, std::string& out) {
  const std::string text = text_of(chunk.if_contains("content"));
  if (!text.empty()) {
    out += json::serialize(line(text, ""));
    out += '\n';
  }
  const json::value* stop = chunk.if_contains("stop");
  if (stop && stop->is_bool() && stop->get_bool()) {
    take_stats(chunk);
    done_reason_ = done_reason_of(text_of(chunk.if_contains("stop_type")));
    done_line(out);
  }
}

void ReplyTranslator::event(std::string_view data, std::string& out) {
  if (data == "[DONE]") {
    done_line(out);
    return;
  }
  boost::system::error_code ec;
  json::value doc = json::parse(data, ec);
  const json::object* o = ec ? nullptr : doc.if_object();
  if (!o) return;
  if (o->contains("error")) {
    out += ollama_error(data);
    out += '\n';
    done_ = true;  // an error ends an Ollama stream
    return;
  }
  if (mode_ == Mode::completion) completion_chunk(*o, out);
  else chat_chunk(*o, out);
}

void ReplyTranslator::feed(std::string_view bytes, std::string& out) {
  pending_.append(bytes);
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = pending_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view l(pending_.data() + start, nl - start);
    start = nl + 1;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (!l.starts_with("data:") || done_) continue;  // blank lines, comments, event names
    l.remove_prefix(5);
    if (!l.empty() && l.front() == ' ') l.remove_prefix(1);
    event(l, out);
  }
  pending_.erase(0, start);
}

std::string ReplyTranslator::whole_chat(const json::object& reply) {
  take_stats(reply);
  std::string text, thinking;
  const json::value* choices = reply.if_contains("choices");
  if (choices && choices->is_array() && !choices->get_array().empty() && choices->get_array()[0].is_object()) {
    const auto& choice = choices->get_array()[0].get_object();
    done_reason_ = done_reason_of(text_of(choice.if_contains("finish_reason")));
    if (const auto* m = choice.if_contains("message"); m && m->is_object()) {
      text = text_of(m->get_object().if_contains("content"));
      thinking = text_of(m->get_object().if_contains("reasoning_content"));
      if (const auto* calls = m->get_object().if_contains("tool_calls"); calls && calls->is_array()) {
        int64_t i = 0;
        for (const auto& call : calls->get_array())
          if (const auto* fn = call.is_object() ? call.get_object().if_contains("function") : nullptr; fn && fn->is_object())
            tool_calls_[i++] = ToolCall{text_of(fn->get_object().if_contains("name")),
                                        text_of(fn->get_object().if_contains("arguments"))};
      }
    }
  }
  json::object o = line(text, thinking);
  if (!tool_calls_.empty() && mode_ == Mode::chat) {
    json::array calls;
    for (const auto& [index, call] : tool_calls_) calls.push_back(ollama_tool_call(call.name, call.arguments));
    o["message"].as_object()["tool_calls"] = std::move(calls);
  }
  tool_calls_.clear();
  std::string tail;
  done_line(tail);  // the counts, merged into the one object
  json::value last = json::parse(std::string_view(tail).substr(0, tail.size() - 1));
  for (const auto& [key, value] : last.as_object())
    if (key != "message" && key != "response") o[key] = value;
  return json::serialize(o);
}

std::string ReplyTranslator::whole_completion(const json::object& reply) {
  take_stats(reply);
  done_reason_ = done_reason_of(text_of(reply.if_contains("stop_type")));
  json::object o = line(text_of(reply.if_contains("content")), "");
  std::string tail;
  done_line(tail);
  json::value last = json::parse(std::string_view(tail).substr(0, tail.size() - 1));
  for (const auto& [key, value] : last.as_object())
    if (key != "response") o[key] = value;
  return json::serialize(o);
}

void ReplyTranslator::finish(std::string_view body, std::string& out) {
  if (stream_) {
    if (!pending_.empty()) feed("\n", out);  // a last event without its newline
    done_line(out);
    return;
  }
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  const json::object* o = ec ? nullptr : doc.if_object();
  if (!o) {
    out = R"({"error":"the llama-server node sent a reply that is not JSON"})";
    done_ = true;
    return;
  }
  out = mode_ == Mode::completion ? whole_completion(*o) : whole_chat(*o);
}

std::string ollama_error(std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  std::string message = "the llama-server node failed";
  if (const json::object* o = ec ? nullptr : doc.if_object()) {
    const json::value* e = o->if_contains("error");
    if (e && e->is_string()) message = std::string(e->get_string());
    else if (e && e->is_object()) {
      if (std::string m = text_of(e->get_object().if_contains("message")); !m.empty()) message = m;
    }
  }
  json::object out;
  out["error"] = message;
  return json::serialize(out);
}

std::string load_reply(Mode mode, const std::string& model, const std::string& created_at) {
  json::object o = ollama_line(mode, model, created_at, "", "");
  o["done"] = true;
  o["done_reason"] = "load";
  return json::serialize(o);
}

}  // namespace hydra::api::llama
