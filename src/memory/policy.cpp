#include "memory/policy.hpp"

#include "common/duration.hpp"
#include "common/whole_number.hpp"

#include <boost/json/value.hpp>

namespace hydra::memory {

namespace json = boost::json;

std::optional<Mode> parse_mode(std::string_view text) {
  if (text == "deterministic") return Mode::deterministic;
  if (text == "always") return Mode::always;
  if (text == "off") return Mode::off;
  return std::nullopt;
}

const char* to_string(Mode m) {
  switch (m) {
    case Mode::deterministic: return "deterministic";
    case Mode::always: return "always";
    case Mode::off: return "off";
  }
  return "?";
}

namespace {

std::optional<double> number_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return std::nullopt;
}

}  // namespace

bool names_sampling(const json::object& body) { return options_name_sampling(body.if_contains("options")); }

std::string why_not_cacheable(Mode mode, Family family, const json::object& body) {
  if (mode == Mode::off) return "cache.mode is off";
  if (streams(family)) {
    const json::value* prompt = body.if_contains("prompt");
    const json::value* messages = body.if_contains("messages");
    const bool no_prompt = (!prompt || (prompt->is_string() && prompt->get_string().empty())) &&
                           (!messages || (messages->is_array() && messages->get_array().empty()));
    if (no_prompt) return "a request without a prompt loads or unloads a model";
  }
  if (const json::value* k = body.if_contains("keep_alive")) {
    auto keep = parse_keep_alive(k, KeepAlive{});
    if (keep.value && !keep.value->forever && keep.value->duration.count() == 0)
      return "keep_alive 0 unloads the model";
  }
  if (mode == Mode::always || !streams(family)) return {};
  const json::value* options = body.if_contains("options");
  if (options && options->is_object()) {
    const auto& o = options->get_object();
    if (auto seed = o.if_contains("seed"); seed && !seed->is_null()) return {};
    if (auto t = number_at(o, "temperature"); t && *t == 0.0) return {};
  }
  return "not deterministic (cache.mode = deterministic needs options.temperature 0 or a seed)";
}

namespace {

// The directives of a Cache-Control value, lower-cased, without arguments.
bool has_directive(std::string_view value, std::string_view name) {
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view d = value.substr(pos, comma - pos);
    while (!d.empty() && (d.front() == ' ' || d.front() == '\t')) d.remove_prefix(1);
    if (auto eq = d.find('='); eq != std::string_view::npos) d = d.substr(0, eq);
    while (!d.empty() && (d.back() == ' ' || d.back() == '\t')) d.remove_suffix(1);
    if (d.size() == name.size()) {
      bool same = true;
      for (std::size_t i = 0; i < d.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(d[i])) != name[i]) same = false;
      if (same) return true;
    }
    pos = comma + 1;
  }
  return false;
}

}  // namespace

RequestCachePolicy request_policy(std::string_view cache_control, std::string_view ttl_header) {
  RequestCachePolicy p;
  if (has_directive(cache_control, "no-store")) p.read = p.write = false;
  if (has_directive(cache_control, "no-cache")) p.read = false;
  if (!ttl_header.empty()) {
    const long long ttl = whole_number<long long>(ttl_header).value_or(-1);
    if (ttl < 0 || ttl > 31536000)
      p.error = "X-Hydra-Cache-TTL must be a whole number of seconds from 0 to 31536000";
    else
      p.ttl_s = ttl;
  }
  return p;
}

}  // namespace hydra::memory
