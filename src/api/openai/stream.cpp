#include "api/openai/stream.hpp"

#include "api/openai/tool_calls.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace hydra::api::openai {

namespace json = boost::json;

std::string sse_event(const json::object& data) {
  std::string out = "data: ";
  out += json::serialize(data);
  out += "\n\n";
  return out;
}

std::string sse_done() { return "data: [DONE]\n\n"; }

std::string sse_error(const Error& e) { return sse_event(error_object(e)); }

namespace {

std::string string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool is_done(const json::object& c) {
  const json::value* d = c.if_contains("done");
  return d && d->is_bool() && d->get_bool();
}

json::object choice_with(std::string_view key, json::value value, json::value finish) {
  json::object choice;
  choice["index"] = 0;
  choice[key] = std::move(value);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = std::move(finish);
  return choice;
}

}  // namespace

json::object StreamTranslator::base() const {
  json::object o;
  o["id"] = ctx_.id;
  o["object"] = ctx_.kind == Kind::chat ? "chat.completion.chunk" : "text_completion";
  o["created"] = ctx_.created;
  o["model"] = ctx_.model;
  o["system_fingerprint"] = "fp_ollama";
  return o;
}

std::string StreamTranslator::fail(const Error& e) {
  if (finished_) return {};
  finished_ = true;
  failed_ = true;
  pending_.clear();
  return responses_ ? responses_->fail(e) : sse_error(e);
}

std::string StreamTranslator::feed(std::string_view bytes) {
  std::string out;
  while (!finished_ && !bytes.empty()) {
    const auto nl = bytes.find('\n');
    const size_t len = nl == std::string_view::npos ? bytes.size() : nl;
    if (pending_.size() + len > max_line_) {
      out += fail(make_error(502, "the node sent a line longer than " + std::to_string(max_line_ / 1024) +
                                      " KiB (limits.line_kb); the reply was cut off"));
      break;
    }
    if (nl == std::string_view::npos) {
      pending_.append(bytes);
      break;
    }
    pending_.append(bytes.substr(0, nl));
    bytes.remove_prefix(nl + 1);
    std::string text = std::move(pending_);
    pending_.clear();
    out += line(text);
  }
  return out;
}

std::string StreamTranslator::line(std::string_view text) {
  if (text.find_first_not_of(" \t\r") == std::string_view::npos) return {};
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return fail(make_error(502, "the node sent a stream line that is not a JSON object"));
  return chunk(v.get_object());
}

std::string StreamTranslator::finish() {
  std::string out;
  if (!finished_ && !pending_.empty()) {
    std::string text = std::move(pending_);
    pending_.clear();
    out += line(text);
  }
  if (!finished_) out += fail(make_error(502, "the node ended the stream before its final chunk"));
  return out;
}

std::string StreamTranslator::chunk(const json::object& c) {
  if (finished_) return {};
  if (const json::value* e = c.if_contains("error"); e && e->is_string())
    return fail(from_ollama_message(500, std::string(e->get_string())));
  if (responses_) {
    std::string out = responses_->chunk(c, is_done(c));
    finished_ = responses_->ended();
    return out;
  }
  return ctx_.kind == Kind::completion ? completion_chunk(c) : chat_chunk(c);
}

std::string StreamTranslator::chat_chunk(const json::object& c) {
  std::string out;
  auto emit = [&](json::object delta, json::value finish) {
    json::object o = base();
    o["choices"] = json::array{choice_with("delta", std::move(delta), std::move(finish))};
    if (ctx_.include_usage) o["usage"] = nullptr;
    out += sse_event(o);
  };
  // OpenAI opens every stream with the role and empty content, before any text.
  if (!role_sent_) {
    json::object delta;
    delta["role"] = "assistant";
    delta["content"] = "";
    emit(std::move(delta), nullptr);
    role_sent_ = true;
  }
  json::object delta;
  if (const json::value* m = c.if_contains("message"); m && m->is_object()) {
    const json::object& msg = m->get_object();
    if (auto content = string_field(msg, "content"); !content.empty()) delta["content"] = std::move(content);
    if (auto thinking = string_field(msg, "thinking"); !thinking.empty()) delta["reasoning"] = std::move(thinking);
    if (const json::value* tc = msg.if_contains("tool_calls"); tc && tc->is_array() && !tc->get_array().empty()) {
      json::array calls = detail::tool_calls(tc->get_array(), ctx_, tool_calls_, true);
      tool_calls_ += calls.size();
      delta["tool_calls"] = std::move(calls);
    }
  }
  if (!delta.empty()) emit(std::move(delta), nullptr);
  if (is_done(c)) {
    emit(json::object(), json::string(finish_reason(string_field(c, "done_reason"), tool_calls_ > 0)));
    out += end(c);
  }
  return out;
}

std::string StreamTranslator::completion_chunk(const json::object& c) {
  std::string out;
  const std::string text = string_field(c, "response");
  const bool done = is_done(c);
  // The final chunk carries the finish reason (and any text that came with it).
  if (!text.empty() || done) {
    json::value finish = nullptr;
    if (done) finish = json::string(finish_reason(string_field(c, "done_reason"), false));
    json::object o = base();
    o["choices"] = json::array{choice_with("text", json::string(text), std::move(finish))};
    if (ctx_.include_usage) o["usage"] = nullptr;
    out += sse_event(o);
  }
  if (done) out += end(c);
  return out;
}

std::string StreamTranslator::end(const json::object& final_chunk) {
  std::string out;
  if (ctx_.include_usage) {
    json::object o = base();
    o["choices"] = json::array();
    o["usage"] = detail::usage(final_chunk);
    out += sse_event(o);
  }
  out += sse_done();
  finished_ = true;
  return out;
}

}  // namespace hydra::api::openai
