#include "cluster/node_info.hpp"

#include "common/authority.hpp"
#include "common/model_name.hpp"
#include "common/whole_number.hpp"

#include <boost/json/parse.hpp>
#include <limits>
#include <unordered_set>

namespace hydra::cluster {

namespace json = boost::json;

namespace {

const json::array* models_array(const json::value& doc) {
  const json::object* o = doc.if_object();
  const json::value* models = o ? o->if_contains("models") : nullptr;
  return models ? models->if_array() : nullptr;
}

// What a node says is data from the network: wrong types, negative or absurd numbers and
// over-long names are read as "not said" (0, or the entry skipped), never trusted or thrown on.
constexpr uint64_t kMaxBytes = 1ull << 50;  // 1 PiB: more than any node has
constexpr uint64_t kMaxMiB = kMaxBytes >> 20;
constexpr std::size_t kMaxName = 512;       // Ollama's own names are far shorter

// A non-negative whole number no larger than `max`; 0 otherwise.
uint64_t uint_field(const json::object& o, std::string_view key, uint64_t max = kMaxBytes) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_number()) return 0;
  boost::system::error_code ec;
  auto n = v->to_number<uint64_t>(ec);
  return ec || n > max ? 0 : n;
}

uint64_t add_saturated(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max() : a + b;
}

std::string name_of(const json::object& o) {
  for (const char* key : {"name", "model"})
    if (const json::value* v = o.if_contains(key); v && v->is_string() && v->get_string().size() <= kMaxName)
      return normalize_model_name(v->get_string());
  return {};
}

// {"models":[...]} -> one Entry per named model object, built by `make(name, object)`.
template <class Entry, class Make>
std::optional<std::vector<Entry>> parse_models(std::string_view body, Make make) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  const json::array* models = ec ? nullptr : models_array(doc);
  if (!models) return std::nullopt;
  std::vector<Entry> out;
  std::unordered_set<std::string> seen;  // a name listed twice counts once
  for (const auto& item : *models) {
    const json::object* o = item.if_object();
    std::string name = o ? name_of(*o) : std::string();
    if (!name.empty() && seen.insert(name).second) out.push_back(make(std::move(name), *o));
  }
  return out;
}

}  // namespace

std::optional<std::vector<ModelEntry>> parse_tags(std::string_view body) {
  return parse_models<ModelEntry>(body, [](std::string name, const json::object& o) {
    return ModelEntry{std::move(name), uint_field(o, "size"), o};
  });
}

std::optional<std::vector<ResidentEntry>> parse_ps(std::string_view body) {
  return parse_models<ResidentEntry>(body, [](std::string name, const json::object& o) {
    return ResidentEntry{std::move(name), uint_field(o, "size"), uint_field(o, "size_vram"), o};
  });
}

std::string NodeUrl::id() const { return host + ":" + std::to_string(port); }
std::string NodeUrl::url() const {
  bool v6 = host.find(':') != std::string::npos;
  return (tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

namespace {
// "vram=24,ram=64,slots=4,agent=11435" into `out`; false on anything unknown or malformed.
bool parse_capacity(std::string_view spec, NodeUrl& out) {
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "kind") {
      if (value == "llama-server") out.kind = NodeKind::llama_server;
      else if (value == "ollama") out.kind = NodeKind::ollama;
      else return false;
      continue;
    }
    const double v = whole_number<double>(value).value_or(-1);
    if (!(v >= 0 && v <= 1e6)) return false;
    if (key == "vram") out.vram_gb = v;
    else if (key == "ram") out.ram_gb = v;
    else if (key == "slots" && v >= 1 && v <= 1024) out.slots = static_cast<int>(v);
    else if (key == "agent" && v >= 1 && v <= 65535) out.agent_port = static_cast<uint16_t>(v);
    else return false;
  }
  return true;
}
}  // namespace

std::optional<NodeUrl> parse_node_url(std::string_view text) {
  NodeUrl out;
  if (auto hash = text.find('#'); hash != std::string_view::npos) {
    if (!parse_capacity(text.substr(hash + 1), out)) return std::nullopt;
    text = text.substr(0, hash);
  }
  if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else if (text.starts_with("https://")) {
    text.remove_prefix(8);
    out.tls = true;
    out.port = 443;
  } else if (text.find("://") != std::string_view::npos) {
    return std::nullopt;
  }
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  if (text.empty() || text.find('/') != std::string_view::npos) return std::nullopt;
  auto authority = parse_authority(text);
  if (!authority) return std::nullopt;
  out.host = std::move(authority->host);
  if (authority->port) out.port = *authority->port;
  return out;
}


std::optional<Resources> parse_agent(std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  const json::object* o = ec ? nullptr : doc.if_object();
  if (!o) return std::nullopt;
  return parse_agent(*o);
}

std::optional<Resources> parse_agent(const json::object& reading) {
  const json::object* o = &reading;
  constexpr uint64_t MiB = 1ull << 20;
  Resources r;
  r.source = Resources::Source::reported;
  r.known = true;
  if (const json::value* gpus = o->if_contains("gpus"); gpus && gpus->is_array()) {
    for (const auto& g : gpus->get_array()) {
      const json::object* go = g.if_object();
      if (!go) continue;
      r.vram_total = add_saturated(r.vram_total, uint_field(*go, "memory_total_mib", kMaxMiB) * MiB);
      r.vram_free = add_saturated(r.vram_free, uint_field(*go, "memory_free_mib", kMaxMiB) * MiB);
    }
  }
  if (const json::value* ram = o->if_contains("ram"); ram && ram->is_object()) {
    r.ram_total = uint_field(ram->get_object(), "total_mib", kMaxMiB) * MiB;
    r.ram_free = uint_field(ram->get_object(), "available_mib", kMaxMiB) * MiB;
  }
  return r;
}

Resources derive_resources(const NodeView& node, const std::optional<Resources>& agent,
                           double configured_vram_gb, double configured_ram_gb) {
  if (agent) return *agent;  // measured on the node itself: best
  uint64_t vram_used = 0, ram_used = 0;
  bool partial = false;
  for (const auto& m : node.resident) {
    vram_used = add_saturated(vram_used, m.size_vram);
    ram_used = add_saturated(ram_used, m.size > m.size_vram ? m.size - m.size_vram : 0);
    partial |= m.size_vram < m.size;
  }
  Resources r;
  if (configured_vram_gb >= 0) {
    r.source = Resources::Source::configured;
    r.known = true;
    r.vram_total = static_cast<uint64_t>(configured_vram_gb * 1e9);
    r.vram_free = r.vram_total > vram_used ? r.vram_total - vram_used : 0;
    if (configured_ram_gb >= 0) {
      r.ram_total = static_cast<uint64_t>(configured_ram_gb * 1e9);
      r.ram_free = r.ram_total > ram_used ? r.ram_total - ram_used : 0;
    }
    return r;
  }
  // Estimated: the most VRAM ever seen in use is a lower bound of the total; a model only
  // partly in VRAM means the VRAM is full.
  r.source = Resources::Source::estimated;
  const Resources& before = node.resources;
  r.vram_total = std::max(before.source == Resources::Source::estimated ? before.vram_total : 0, vram_used);
  r.known = before.known || !node.resident.empty();
  r.vram_free = partial ? 0 : r.vram_total - vram_used;
  return r;
}

}  // namespace hydra::cluster
