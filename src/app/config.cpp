#include "app/config.hpp"
#include "app/config_settings.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

extern char** environ;

namespace hydra::app {

namespace {

[[noreturn]] void bad(const std::string& what) { throw ConfigError(what); }

void apply(ServeConfig& c, const Setting& s, const std::string& value, const std::string& origin) {
  try {
    s.set(c, value);
    // The original system's dashboard_port (SOLLOL_DASHBOARD_PORT) changes dashboard_listen:
    // it comes first in the table, so a dashboard_listen from the same source wins.
    c.origins[s.key == "dashboard_port" ? "dashboard_listen" : s.key] = origin;
  } catch (const std::invalid_argument& e) {
    bad(fmt::format("setting {} ({}): bad value \"{}\": {}", s.key, origin, printable(s.key, value), e.what()));
  }
}

// TOML scalar or array -> the string form the setters read.
std::optional<std::string> toml_text(const toml::node& n) {
  // Exact types: toml++'s value<T>() would also convert, e.g. an integer into a bool.
  if (n.is_string()) return n.value<std::string>();
  if (n.is_boolean()) return *n.value<bool>() ? "true" : "false";
  if (n.is_integer()) return std::to_string(*n.value<int64_t>());
  if (n.is_floating_point()) return fmt::format("{}", *n.value<double>());
  if (auto* a = n.as_array()) {
    std::string out;
    for (const auto& item : *a) {
      auto t = toml_text(item);
      if (!t) return std::nullopt;
      out += (out.empty() ? "" : ",") + *t;
    }
    return out;
  }
  return std::nullopt;
}

void check_unknown_keys(const toml::table& t, const std::string& prefix, const std::string& file) {
  for (const auto& [k, v] : t) {
    std::string key = prefix + std::string(k.str());
    if (key == "sharded") continue;  // [[sharded]]: checked by parse_sharded
    if (auto* sub = v.as_table()) {
      check_unknown_keys(*sub, key + ".", file);
      continue;
    }
    bool known = key == "auth.keys" || key == "sharded";  // [[auth.keys]], [[sharded]]: read apart
    for (const auto& s : settings()) known |= s.key == key;
    if (!known) bad(fmt::format("{}: unknown setting \"{}\"", file, key));
  }
}

}  // namespace

ServeConfig resolve_config(const ConfigSources& src) {
  ServeConfig c;
  if (const char* home = std::getenv("HOME")) c.data_dir = std::string(home) + "/.local/share/hydra";
  else c.data_dir = ".hydra";

  if (src.file_text) {
    toml::table file;
    try {
      file = toml::parse(*src.file_text);
    } catch (const toml::parse_error& e) {
      bad(fmt::format("{}: {} (line {})", src.file_name, e.description(), e.source().begin.line));
    }
    check_unknown_keys(file, "", src.file_name);
    for (const auto& s : settings()) {
      const toml::node* n = file.at_path(s.key).node();
      if (!n) continue;
      auto text = toml_text(*n);
      if (!text) bad(fmt::format("setting {} ({}): unsupported value type", s.key, src.file_name));
      apply(c, s, *text, src.file_name);
    }
  }
  for (const auto& s : settings()) {
    for (const auto& name : s.env) {
      auto it = src.env.find(name);
      if (it == src.env.end() || it->second.empty()) continue;
      apply(c, s, it->second, "environment " + name);
      break;
    }
  }
  for (const auto& s : settings()) {
    if (s.flag.empty()) continue;
    if (auto it = src.flags.find(s.flag); it != src.flags.end()) apply(c, s, it->second, "--" + s.flag);
  }
  if (c.tls_cert.empty() != c.tls_key.empty())
    bad(fmt::format("setting {}: TLS needs both tls.cert and tls.key", c.tls_cert.empty() ? "tls.cert" : "tls.key"));
  if (c.cache.semantic.enabled && c.cache.semantic.model.empty())
    bad("setting cache.semantic.enabled: the semantic tier needs cache.semantic.model (an embedding model the fleet has)");
  if (!src.flag_nodes.empty()) c.nodes = src.flag_nodes;
  if (!src.flag_nodes.empty()) c.origins["nodes"] = "--node";
  if (c.cache.redis_url.empty() && !c.redis_url.empty()) {  // one Redis serves both unless told otherwise
    c.cache.redis_url = c.redis_url;
    c.origins["cache.redis_url"] = "cluster.redis_url";
  }
  try {
    auto keys = std::make_shared<auth::KeySet>();
    if (src.file_text) keys->keys = auth::parse_keys(*src.file_text, src.file_name);
    if (src.file_text) c.sharded = parse_sharded(*src.file_text, src.file_name);
    if (src.file_path) c.key_files.push_back(*src.file_path);
    if (!c.keys_file.empty()) {
      auth::merge_keys(keys->keys, auth::load_keys_file(c.keys_file), c.keys_file);
      c.key_files.push_back(c.keys_file);
    }
    c.keys = std::move(keys);
  } catch (const auth::KeyError& e) {
    bad(fmt::format("API keys: {}", e.what()));
  }
  if (src.flags.count("no-discovery")) {
    c.discovery = false;
    c.origins["discovery.enabled"] = "--no-discovery";
  }
  return c;
}

std::vector<std::string> config_env_names() {
  std::vector<std::string> out{"HYDRA_CONFIG"};
  for (const auto& s : settings()) out.insert(out.end(), s.env.begin(), s.env.end());
  return out;
}

ConfigSources gather_sources(const std::map<std::string, std::string>& flags, const std::vector<std::string>& nodes,
                             const std::string& config_flag) {
  ConfigSources src;
  src.flags = flags;
  src.flag_nodes = nodes;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos && (kv.starts_with("HYDRA_") || kv.starts_with("SOLLOL_")))
      src.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::string path = config_flag;
  if (path.empty() && src.env.count("HYDRA_CONFIG")) path = src.env["HYDRA_CONFIG"];
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) throw ConfigError(fmt::format("setting config: cannot read {}: {}", path, std::strerror(errno)));
    std::stringstream text;
    text << in.rdbuf();
    src.file_text = text.str();
    src.file_name = path;
    src.file_path = path;
  }
  return src;
}

}  // namespace hydra::app
