#include "cluster/llama_info.hpp"

#include "common/model_name.hpp"

#include <boost/json/parse.hpp>

namespace hydra::cluster {

namespace json = boost::json;

namespace {

const json::object* object_of(std::string_view body, json::value& doc) {
  boost::system::error_code ec;
  doc = json::parse(body, ec);
  return ec ? nullptr : doc.if_object();
}

int64_t int_field(const json::object& o, std::string_view key, int64_t fallback) {
  const json::value* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return fallback;
}

// "8.0B", "405B", "140M" from a parameter count.
std::string parameter_size(int64_t n) {
  if (n <= 0) return "";
  char buf[32];
  if (n >= 1'000'000'000) std::snprintf(buf, sizeof buf, "%.1fB", static_cast<double>(n) / 1e9);
  else std::snprintf(buf, sizeof buf, "%.0fM", static_cast<double>(n) / 1e6);
  return buf;
}

}  // namespace

std::optional<LlamaProps> parse_llama_props(std::string_view body) {
  json::value doc;
  const json::object* o = object_of(body, doc);
  if (!o) return std::nullopt;
  const int64_t slots = int_field(*o, "total_slots", 0);
  if (slots <= 0 || slots > 4096) return std::nullopt;
  LlamaProps p;
  p.total_slots = static_cast<int>(slots);
  if (const auto* path = o->if_contains("model_path"); path && path->is_string()) p.model_path = std::string(path->get_string());
  if (const auto* d = o->if_contains("default_generation_settings"); d && d->is_object())
    p.n_ctx = static_cast<int>(int_field(d->get_object(), "n_ctx", 0));
  return p;
}

int parse_llama_busy(std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_array()) return -1;
  int busy = 0;
  for (const auto& slot : doc.get_array()) {
    const json::object* s = slot.if_object();
    if (!s) return -1;
    if (const auto* p = s->if_contains("is_processing"); p && p->is_bool()) busy += p->get_bool();
    else busy += int_field(*s, "state", 0) != 0;
  }
  return busy;
}

std::optional<std::vector<ModelEntry>> parse_llama_models(std::string_view body) {
  json::value doc;
  const json::object* o = object_of(body, doc);
  const json::value* data = o ? o->if_contains("data") : nullptr;
  if (!data || !data->is_array()) return std::nullopt;
  std::vector<ModelEntry> out;
  for (const auto& item : data->get_array()) {
    const json::object* m = item.if_object();
    const json::value* id = m ? m->if_contains("id") : nullptr;
    if (!id || !id->is_string() || id->get_string().empty() || id->get_string().size() > 512) continue;
    std::vector<std::string> names{std::string(id->get_string())};
    if (const auto* aliases = m->if_contains("aliases"); aliases && aliases->is_array())
      for (const auto& a : aliases->get_array())
        if (a.is_string() && !a.get_string().empty() && a.get_string().size() <= 512) names.emplace_back(a.get_string());
    uint64_t size = 0;
    int64_t params = 0, ctx = 0;
    if (const auto* meta = m->if_contains("meta"); meta && meta->is_object()) {
      size = static_cast<uint64_t>(std::max<int64_t>(0, int_field(meta->get_object(), "size", 0)));
      params = int_field(meta->get_object(), "n_params", 0);
      ctx = int_field(meta->get_object(), "n_ctx_train", 0);
    }
    for (const auto& name : names) {
      ModelEntry e;
      e.name = normalize_model_name(name);
      if (std::any_of(out.begin(), out.end(), [&](const ModelEntry& x) { return x.name == e.name; })) continue;
      e.size = size;
      json::object details;
      details["format"] = "gguf";
      details["parameter_size"] = parameter_size(params);
      if (ctx > 0) details["context_length"] = ctx;
      e.raw["name"] = e.name;
      e.raw["model"] = e.name;
      e.raw["size"] = size;
      e.raw["digest"] = "";
      e.raw["details"] = std::move(details);
      e.raw["node_kind"] = "llama-server";
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::vector<ResidentEntry> llama_resident(const std::vector<ModelEntry>& models) {
  std::vector<ResidentEntry> out;
  for (const auto& m : models) {
    ResidentEntry r;
    r.name = m.name;
    r.size = m.size;
    r.size_vram = m.size;
    r.raw = m.raw;
    r.raw["size_vram"] = m.size;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace hydra::cluster
