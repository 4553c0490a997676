#include "memory/entry.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstring>

namespace hydra::memory {

namespace json = boost::json;

std::size_t Entry::bytes() const {
  std::size_t n = sizeof(Entry) + model.size() + node.size();
  for (const auto& p : pieces) n += p.size() + sizeof(std::string);
  return n;
}

std::string Entry::body() const {
  std::string out;
  std::size_t n = 0;
  for (const auto& p : pieces) n += p.size();
  out.reserve(n);
  for (const auto& p : pieces) out += p;
  return out;
}

namespace {

constexpr std::string_view kMagic = "HYC1";

void put_u64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 8);
}
void put_str(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out += s;
}

struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t u64() {
    if (in.size() < 8) return ok = false, 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<unsigned char>(in[i])) << (8 * i);
    in.remove_prefix(8);
    return v;
  }
  std::string str() {
    const uint64_t n = u64();
    if (!ok || n > in.size()) return ok = false, std::string();
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

}  // namespace

std::string encode(const Entry& e) {
  std::string out(kMagic);
  put_str(out, e.model);
  put_str(out, e.node);
  put_u64(out, e.streamed ? 1 : 0);
  put_u64(out, static_cast<uint64_t>(e.created_unix_ms));
  put_u64(out, static_cast<uint64_t>(e.expires_unix_ms));
  put_u64(out, e.eval_count);
  put_u64(out, e.prompt_eval_count);
  uint64_t total;
  std::memcpy(&total, &e.total_ms, sizeof total);
  put_u64(out, total);
  put_u64(out, e.pieces.size());
  for (const auto& p : e.pieces) put_str(out, p);
  return out;
}

std::optional<Entry> decode(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  Reader r{bytes.substr(kMagic.size())};
  Entry e;
  e.model = r.str();
  e.node = r.str();
  e.streamed = r.u64() != 0;
  e.created_unix_ms = static_cast<int64_t>(r.u64());
  e.expires_unix_ms = static_cast<int64_t>(r.u64());
  e.eval_count = r.u64();
  e.prompt_eval_count = r.u64();
  const uint64_t total = r.u64();
  std::memcpy(&e.total_ms, &total, sizeof total);
  const uint64_t n = r.u64();
  if (!r.ok || n > r.in.size()) return std::nullopt;  // each piece takes at least 8 bytes
  e.pieces.reserve(n);
  for (uint64_t i = 0; i < n && r.ok; ++i) e.pieces.push_back(r.str());
  if (!r.ok || !r.in.empty()) return std::nullopt;
  return e;
}

std::vector<std::string> as_stream(const Entry& e) {
  if (e.streamed) return e.pieces;
  std::string line = e.body();
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.pop_back();
  line += '\n';
  return {std::move(line)};
}

void read_counts(Entry& e) {
  if (e.pieces.empty()) return;
  std::string_view all = e.pieces.back();
  while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.remove_suffix(1);
  if (e.streamed) {
    const auto nl = all.find_last_of('\n');
    if (nl != std::string_view::npos) all.remove_prefix(nl + 1);
  } else if (e.pieces.size() > 1) {
    return;  // a whole body in several pieces: its counts are read when it is replayed, not here
  }
  boost::system::error_code ec;
  json::value v = json::parse(all, ec);
  if (ec || !v.is_object()) return;
  auto count = [&](const char* key) -> uint64_t {
    const json::value* n = v.get_object().if_contains(key);
    return n && n->is_int64() && n->get_int64() > 0 ? static_cast<uint64_t>(n->get_int64())
           : n && n->is_uint64()                    ? n->get_uint64()
                                                    : 0;
  };
  e.eval_count = count("eval_count");
  e.prompt_eval_count = count("prompt_eval_count");
}

namespace {

void append_text(json::object& into, std::string_view key, const json::object& from) {
  const json::value* v = from.if_contains(key);
  if (!v || !v->is_string() || v->get_string().empty()) return;
  json::value& slot = into[key];
  if (!slot.is_string()) slot = "";
  slot.get_string().append(v->get_string());
}

}  // namespace

std::optional<std::string> as_whole(const Entry& e, Family family) {
  if (!e.streamed) return e.body();
  const std::string all = e.body();
  json::object text;   // generate: response, thinking; chat: the message's content, thinking
  json::array tools;   // chat: tool calls from every line
  json::object last;
  bool done = false;
  for (std::size_t pos = 0; pos < all.size();) {
    std::size_t nl = all.find('\n', pos);
    if (nl == std::string::npos) nl = all.size();
    std::string_view line(all.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return std::nullopt;
    json::object& o = v.get_object();
    if (family == Family::chat) {
      if (auto* m = o.if_contains("message"); m && m->is_object()) {
        append_text(text, "content", m->get_object());
        append_text(text, "thinking", m->get_object());
        if (auto* t = m->get_object().if_contains("tool_calls"); t && t->is_array())
          for (auto& call : t->get_array()) tools.push_back(call);
      }
    } else {
      append_text(text, "response", o);
      append_text(text, "thinking", o);
    }
    if (auto* d = o.if_contains("done"); d && d->is_bool() && d->as_bool()) {
      last = std::move(o);
      done = true;
    }
  }
  if (!done) return std::nullopt;
  if (family == Family::chat) {
    json::object message;
    if (auto* m = last.if_contains("message"); m && m->is_object()) message = m->get_object();
    message["role"] = "assistant";
    message["content"] = text.contains("content") ? text["content"] : json::value("");
    if (text.contains("thinking")) message["thinking"] = text["thinking"];
    if (!tools.empty()) message["tool_calls"] = std::move(tools);
    last["message"] = std::move(message);
  } else {
    last["response"] = text.contains("response") ? text["response"] : json::value("");
    if (text.contains("thinking")) last["thinking"] = text["thinking"];
  }
  return json::serialize(last);
}

}  // namespace hydra::memory
