#include "support/streams.hpp"

#include <boost/json/parse.hpp>

namespace hydra::test {

namespace json = boost::json;

namespace {

template <class F>
void each_line(std::string_view rest, F&& f) {
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) f(line);
  }
}

const json::object* object_of(const json::value& v) { return v.if_object(); }

std::string string_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

bool Streamed::done() const {
  const json::object l = last();
  const json::value* d = l.if_contains("done");
  return d && d->is_bool() && d->get_bool();
}

bool Streamed::error() const { return last().contains("error"); }

Streamed parse_ndjson(HttpReply reply) {
  Streamed s;
  each_line(reply.body, [&](std::string_view line) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    const json::object* o = ec ? nullptr : object_of(v);
    if (!o) {
      s.torn = true;
      return;
    }
    if (const json::value* m = o->if_contains("message"); m && m->is_object()) s.text += string_at(m->get_object(), "content");
    s.text += string_at(*o, "response");
    s.lines.push_back(*o);
  });
  s.reply = std::move(reply);
  return s;
}

SseText parse_sse(const std::string& body) {
  SseText out;
  each_line(body, [&](std::string_view line) {
    if (!line.starts_with("data: ")) return;
    line.remove_prefix(6);
    if (line == "[DONE]") {
      out.done = true;
      return;
    }
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    const json::object* o = ec ? nullptr : object_of(v);
    if (!o) {
      out.torn = true;
      return;
    }
    if (o->contains("error")) out.error = true;
    if (const json::value* choices = o->if_contains("choices"); choices && choices->is_array())
      for (const auto& c : choices->get_array()) {
        const json::value* delta = c.is_object() ? c.get_object().if_contains("delta") : nullptr;
        if (!delta || !delta->is_object()) continue;
        std::string piece = string_at(delta->get_object(), "content");
        if (piece.empty()) continue;
        out.text += piece;
        ++out.deltas;
      }
    if (const json::value* u = o->if_contains("usage"); u && u->is_object())
      if (const json::value* n = u->get_object().if_contains("completion_tokens"); n && n->is_int64())
        out.completion_tokens = n->get_int64();
  });
  return out;
}

std::string reply_text(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  const json::object* o = ec ? nullptr : object_of(v);
  if (!o) return {};
  if (const json::value* m = o->if_contains("message"); m && m->is_object()) return string_at(m->get_object(), "content");
  if (o->contains("response")) return string_at(*o, "response");
  const json::value* choices = o->if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty() || !choices->get_array()[0].is_object()) return {};
  const json::object& c = choices->get_array()[0].get_object();
  if (const json::value* m = c.if_contains("message"); m && m->is_object()) return string_at(m->get_object(), "content");
  return string_at(c, "text");
}

}  // namespace hydra::test
