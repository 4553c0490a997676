// `hydra config example` and `hydra config check`: the settings table (config_settings.cpp)
// written out as a commented config file, or as the effective values with their origins.
#include "app/config_settings.hpp"
#include "state/redis_link.hpp"

#include <fmt/format.h>

namespace hydra::app {

namespace {

// "timeouts.connect_ms" -> "timeouts"; a top-level key -> "".
std::string group_of(const std::string& key) {
  auto dot = key.find('.');
  return dot == std::string::npos ? std::string() : key.substr(0, dot);
}

std::string where_else(const Setting& s) {
  std::string out;
  for (const auto& e : s.env) out += (out.empty() ? "" : ", ") + e;
  if (!out.empty()) out = "environment " + out;
  if (!s.flag.empty()) out += (out.empty() ? "flag --" : "; flag --") + s.flag;
  return out;
}

std::string shown(const std::string& key, const std::optional<std::string>& value) {
  if (!value) return "(not set)";
  if (key == "discovery.token") return "\"***\"  (set; hidden)";
  return printable(key, *value);
}

}  // namespace

std::string example_config() {
  const ServeConfig defaults;
  std::string out =
      "# Hydra's configuration: `hydra serve --config FILE` (the package's service reads\n"
      "# /etc/hydra/hydra.toml). Every setting is listed at its default, commented out: remove\n"
      "# the leading '#' of a line to change it. Precedence: flags > environment > this file >\n"
      "# defaults. Check a file with `hydra config check FILE`.\n";
  std::string group = "-";
  for (const auto& s : settings()) {
    if (s.help.empty()) continue;  // an alias
    if (const std::string g = group_of(s.key); g != group) {
      group = g;
      if (!g.empty()) out += fmt::format("\n# ---- {} ----\n", g);
    }
    out += "\n# " + s.help + "\n";
    if (const std::string more = where_else(s); !more.empty()) out += "# (" + more + ")\n";
    const std::optional<std::string> value = s.get(defaults);
    if (s.example.empty()) {
      out += fmt::format("#{} = {}\n", s.key, value.value_or("\"\""));
    } else {
      if (!value) out += "# Not set by default. For example:\n";
      else out += "# The default depends on the machine. For example:\n";
      out += fmt::format("#{} = {}\n", s.key, s.example);
    }
  }
  out +=
      "\n# ---- tables ----\n"
      "\n# API keys: [[auth.keys]] tables (name, sha256, admin, models, rpm, tpm, max_concurrent,\n"
      "# max_priority); `hydra keys new NAME` prints one. See the README's Security section.\n"
      "\n# Models sharded over llama.cpp rpc-servers: [[sharded]] tables (model, gguf, size_gb,\n"
      "# coordinator, rpc, ctx, parallel, keep_alive_s); see the README's Sharding section.\n";
  return out;
}

std::string printable(const std::string& key, const std::string& value) {
  if (key == "discovery.token") return "***";
  if (key.ends_with("redis_url")) return state::without_password(value);
  return value;
}

std::string describe_config(const ServeConfig& config) {
  std::size_t width = 0;
  std::vector<std::pair<std::string, const Setting*>> lines;
  for (const auto& s : settings()) {
    if (s.help.empty()) continue;
    std::string line = fmt::format("{} = {}", s.key, shown(s.key, s.get(config)));
    width = std::max(width, line.size());
    lines.emplace_back(std::move(line), &s);
  }
  std::string out;
  for (const auto& [line, s] : lines) {
    auto origin = config.origins.find(s->key);
    out += fmt::format("{:<{}}  # {}\n", line, width, origin == config.origins.end() ? "default" : origin->second);
  }
  out += fmt::format("{} API key(s)", config.keys->keys.size());
  std::string names;
  for (const auto& k : config.keys->keys) names += (names.empty() ? "" : ", ") + k.name;
  out += names.empty() ? "\n" : ": " + names + "\n";
  out += fmt::format("{} sharded model(s)", config.sharded.size());
  names.clear();
  for (const auto& m : config.sharded) names += (names.empty() ? "" : ", ") + m.model;
  out += names.empty() ? "\n" : ": " + names + "\n";
  return out;
}

}  // namespace hydra::app
