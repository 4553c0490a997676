#include "cluster/node_info.hpp"

#include "common/model_name.hpp"

#include <boost/json/parse.hpp>
#include <charconv>

namespace hydra::cluster {

namespace json = boost::json;

namespace {

const json::array* models_array(const json::value& doc) {
  const json::object* o = doc.if_object();
  const json::value* models = o ? o->if_contains("models") : nullptr;
  return models ? models->if_array() : nullptr;
}

uint64_t uint_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_number()) return 0;
  boost::system::error_code ec;
  auto n = v->to_number<uint64_t>(ec);
  return ec ? 0 : n;
}

std::string name_of(const json::object& o) {
  for (const char* key : {"name", "model"})
    if (const json::value* v = o.if_contains(key); v && v->is_string())
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
  for (const auto& item : *models) {
    const json::object* o = item.if_object();
    std::string name = o ? name_of(*o) : std::string();
    if (!name.empty()) out.push_back(make(std::move(name), *o));
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
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<NodeUrl> parse_node_url(std::string_view text) {
  if (text.starts_with("http://")) text.remove_prefix(7);
  else if (text.find("://") != std::string_view::npos) return std::nullopt;  // https etc.: not yet
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  if (text.empty() || text.find('/') != std::string_view::npos) return std::nullopt;
  NodeUrl out;
  std::string_view host = text, port;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      port = text.substr(close + 2);
    }
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return std::nullopt;
  if (!port.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
    out.port = static_cast<uint16_t>(value);
  }
  out.host = std::string(host);
  return out;
}

}  // namespace hydra::cluster
