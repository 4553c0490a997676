// [[sharded]] in the config file: models Hydra shards over llama.cpp rpc-servers (issue #21).
#include "app/config.hpp"
#include "common/model_name.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

namespace hydra::app {

namespace {

[[noreturn]] void bad(const std::string& origin, std::size_t i, std::string_view field, std::string_view why) {
  throw ConfigError(fmt::format("{}: [[sharded]] entry {}: {} {}", origin, i + 1, field, why));
}

double number(const toml::table& t, std::string_view field, double fallback, double lo, double hi,
              const std::string& origin, std::size_t i) {
  const toml::node* n = t.get(field);
  if (!n) return fallback;
  std::optional<double> v = n->is_integer() ? std::optional<double>(static_cast<double>(*n->value<int64_t>()))
                                            : n->is_floating_point() ? n->value<double>() : std::nullopt;
  if (!v || *v < lo || *v > hi) bad(origin, i, field, fmt::format("must be a number from {} to {}", lo, hi));
  return *v;
}

std::string text(const toml::table& t, std::string_view field, const std::string& origin, std::size_t i, bool required) {
  const toml::node* n = t.get(field);
  if (!n) {
    if (required) bad(origin, i, field, "is required");
    return {};
  }
  if (!n->is_string() || n->value<std::string>()->empty()) bad(origin, i, field, "must be a non-empty string");
  return *n->value<std::string>();
}

}  // namespace

std::vector<api::ShardedModel> parse_sharded(std::string_view toml_text, const std::string& origin) {
  toml::table file;
  try {
    file = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}: {}", origin, e.description()));
  }
  std::vector<api::ShardedModel> out;
  const toml::node* list = file.get("sharded");
  if (!list) return out;
  const toml::array* entries = list->as_array();
  if (!entries) throw ConfigError(fmt::format("{}: sharded must be written [[sharded]] (a list of tables)", origin));
  static const std::vector<std::string_view> known{"model", "gguf", "size_gb", "coordinator", "rpc", "ctx", "parallel",
                                                   "keep_alive_s", "kv_gb_per_1k_ctx", "coordinator_gb", "start_timeout_s"};
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const toml::table* t = (*entries)[i].as_table();
    if (!t) throw ConfigError(fmt::format("{}: [[sharded]] entry {} is not a table", origin, i + 1));
    for (const auto& [key, value] : *t)
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) bad(origin, i, key.str(), "is not a setting");
    api::ShardedModel m;
    m.model = normalize_model_name(text(*t, "model", origin, i, true));
    m.gguf = text(*t, "gguf", origin, i, true);
    m.coordinator = text(*t, "coordinator", origin, i, true);
    if (!m.coordinator.starts_with("http://") && !m.coordinator.starts_with("https://"))
      bad(origin, i, "coordinator", "must be a `hydra agent` URL, http://host:port");
    m.size_gb = number(*t, "size_gb", 0, 0, 1e6, origin, i);
    m.ctx = static_cast<int>(number(*t, "ctx", m.ctx, 256, 1 << 22, origin, i));
    m.parallel = static_cast<int>(number(*t, "parallel", m.parallel, 1, 256, origin, i));
    m.keep_alive = std::chrono::milliseconds(static_cast<int64_t>(number(*t, "keep_alive_s", 300, 1, 1e7, origin, i) * 1000));
    m.kv_gb_per_1k_ctx = number(*t, "kv_gb_per_1k_ctx", m.kv_gb_per_1k_ctx, 0, 1e3, origin, i);
    m.coordinator_gb = number(*t, "coordinator_gb", 0, 0, 1e6, origin, i);
    m.start_timeout = std::chrono::milliseconds(static_cast<int64_t>(number(*t, "start_timeout_s", 600, 1, 1e6, origin, i) * 1000));
    if (const toml::node* rpc = t->get("rpc")) {
      const toml::array* a = rpc->as_array();
      if (!a) bad(origin, i, "rpc", "must be a list of \"host:port\"");
      for (const auto& e : *a) {
        if (!e.is_string()) bad(origin, i, "rpc", "must be a list of \"host:port\"");
        m.rpc.push_back(*e.value<std::string>());
      }
    }
    for (const auto& other : out)
      if (other.model == m.model) bad(origin, i, "model", fmt::format("\"{}\" is listed twice", m.model));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace hydra::app
