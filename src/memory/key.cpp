#include "memory/key.hpp"

#include "auth/keys.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <vector>

namespace hydra::memory {

namespace json = boost::json;

std::optional<Family> family_of(std::string_view target) {
  if (target == "/api/generate") return Family::generate;
  if (target == "/api/chat") return Family::chat;
  if (target == "/api/embed") return Family::embed;
  if (target == "/api/embeddings") return Family::embeddings;
  return std::nullopt;
}

const char* to_string(Family f) {
  switch (f) {
    case Family::generate: return "generate";
    case Family::chat: return "chat";
    case Family::embed: return "embed";
    case Family::embeddings: return "embeddings";
  }
  return "?";
}

bool streams(Family f) { return f == Family::generate || f == Family::chat; }

bool wants_stream(Family f, const json::object& body) {
  if (!streams(f)) return false;
  const json::value* s = body.if_contains("stream");
  return !(s && s->is_bool() && !s->as_bool());
}

namespace {

void write(std::string& out, const json::value& v, bool hash_strings);

void write_number(std::string& out, double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
    out += std::to_string(static_cast<long long>(d));
    return;
  }
  out += json::serialize(json::value(d));
}

void write_object(std::string& out, const json::object& o, bool top) {
  std::vector<const json::key_value_pair*> fields;
  fields.reserve(o.size());
  for (const auto& kv : o) {
    // Left out: what does not change the answer, and the model (keyed normalised, beside).
    if (top && (kv.key() == "stream" || kv.key() == "keep_alive" || kv.key() == "model")) continue;
    fields.push_back(&kv);
  }
  std::sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
  out += '{';
  bool first = true;
  for (const auto* kv : fields) {
    if (!first) out += ',';
    first = false;
    out += json::serialize(json::value(kv->key()));
    out += ':';
    write(out, kv->value(), kv->key() == "images");
  }
  out += '}';
}

void write(std::string& out, const json::value& v, bool hash_strings) {
  switch (v.kind()) {
    case json::kind::object: write_object(out, v.get_object(), false); break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write(out, e, hash_strings);
      }
      out += ']';
      break;
    }
    case json::kind::string:
      if (hash_strings) {  // an image: its hash stands for it
        const auto& s = v.get_string();
        out += "\"sha256:" + auth::to_hex(auth::sha256(std::string_view(s.data(), s.size()))) + '"';
      } else {
        out += json::serialize(v);
      }
      break;
    case json::kind::double_: write_number(out, v.get_double()); break;
    case json::kind::int64: out += std::to_string(v.get_int64()); break;
    case json::kind::uint64: out += std::to_string(v.get_uint64()); break;
    default: out += json::serialize(v); break;  // bool, null
  }
}

}  // namespace

std::string canonical(const KeyInput& in) {
  std::string out = "{\"family\":\"";
  out += to_string(in.family);
  out += "\",\"model\":" + json::serialize(json::value(in.model));
  out += ",\"digest\":" + json::serialize(json::value(in.digest));
  out += ",\"ns\":" + json::serialize(json::value(in.ns));
  out += ",\"body\":";
  if (in.body) write_object(out, *in.body, true);
  else out += "{}";
  out += '}';
  return out;
}

std::string key_of(const KeyInput& in) { return auth::to_hex(auth::sha256(canonical(in))); }

}  // namespace hydra::memory
