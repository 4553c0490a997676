#include "app/config.hpp"
#include "routing/policy.hpp"

#include "http/server.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <sstream>
#include <toml++/toml.h>

extern char** environ;

namespace hydra::app {

namespace {

using Setter = std::function<void(ServeConfig&, const std::string&)>;

struct Setting {
  std::string key;                // in the config file (dotted for tables)
  std::vector<std::string> env;   // first found wins; HYDRA_* before SOLLOL_*
  std::string flag;               // without "--"; empty: no flag
  Setter set;
};

[[noreturn]] void bad(const std::string& what) { throw ConfigError(what); }

bool to_bool(const std::string& v) {
  std::string s;
  for (char c : v) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  throw std::invalid_argument("expected true or false");
}

double to_number(const std::string& v, double min, double max) {
  double out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) throw std::invalid_argument("expected a number");
  if (!(out >= min && out <= max))  // nan too
    throw std::invalid_argument(fmt::format("expected a number from {} to {}", min, max));
  return out;
}

// A count, a port, a size: a whole number in [min, max] ("2.5" is refused, not truncated).
double to_whole(const std::string& v, double min, double max) {
  double out = to_number(v, min, max);
  if (out != std::floor(out)) throw std::invalid_argument(fmt::format("expected a whole number from {} to {}", min, max));
  return out;
}

std::chrono::milliseconds to_ms(const std::string& v, double min_ms, double max_ms) {
  return std::chrono::milliseconds(static_cast<int64_t>(to_number(v, min_ms, max_ms)));
}

std::chrono::milliseconds seconds_to_ms(const std::string& v, double min_s, double max_s) {
  return std::chrono::milliseconds(static_cast<int64_t>(to_number(v, min_s, max_s) * 1000));
}

std::string endpoint(const std::string& v) {
  if (!http::parse_endpoint(v)) throw std::invalid_argument("expected HOST:PORT with a literal address or localhost");
  return v;
}

// A file that can be opened now (certificates, keys: their contents are checked where used).
std::string readable(const std::string& v) {
  if (!std::ifstream(v)) throw std::invalid_argument("cannot read the file");
  return v;
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::string item;
  for (char c : v + ",") {
    if (c == ',') {
      auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
      if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
      item.clear();
    } else {
      item += c;
    }
  }
  return out;
}

// "10.0.0.0/24, 192.168.1.7" -> ranges; scan targets are size-checked (/16 at the widest).
std::vector<cluster::Cidr> cidrs(const std::string& v, bool scan_target) {
  std::vector<cluster::Cidr> out;
  for (const auto& item : split_list(v)) {
    auto parsed = scan_target ? cluster::parse_scan_target(item) : cluster::parse_cidr(item);
    if (!parsed.cidr) throw std::invalid_argument(parsed.error);
    out.push_back(*parsed.cidr);
  }
  return out;
}

// One word (no spaces) of at most `max` bytes.
std::string word(const std::string& v, std::size_t max, const char* example) {
  if (v.empty() || v.size() > max || v.find_first_of(" \t\r\n") != std::string::npos)
    throw std::invalid_argument(fmt::format("expected {} (no spaces, at most {} bytes)", example, max));
  return v;
}

// A model name: not empty, no spaces.
std::string model_name(const std::string& v) {
  if (v.empty() || v.find_first_of(" \t") != std::string::npos) throw std::invalid_argument("expected a model name such as qwen3:14b");
  return v;
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = {
      {"listen", {"HYDRA_LISTEN"}, "listen", [](ServeConfig& c, const std::string& v) { c.listen = endpoint(v); }},
      {"threads", {"HYDRA_THREADS"}, "threads",
       [](ServeConfig& c, const std::string& v) { c.threads = static_cast<int>(to_whole(v, 0, 256)); }},
      {"dashboard_listen", {"HYDRA_DASHBOARD_LISTEN"}, "dashboard-listen",
       [](ServeConfig& c, const std::string& v) { c.dashboard_listen = endpoint(v); }},
      {"dashboard_port", {"SOLLOL_DASHBOARD_PORT"}, "",
       [](ServeConfig& c, const std::string& v) {
         auto port = static_cast<int>(to_whole(v, 0, 65535));
         c.dashboard_listen = c.dashboard_listen.substr(0, c.dashboard_listen.rfind(':')) + ":" + std::to_string(port);
       }},
      {"dashboard", {"HYDRA_DASHBOARD", "SOLLOL_DASHBOARD_ENABLED"}, "",
       [](ServeConfig& c, const std::string& v) { c.dashboard_enabled = to_bool(v); }},
      {"tls.cert", {"HYDRA_TLS_CERT"}, "tls-cert", [](ServeConfig& c, const std::string& v) { c.tls_cert = readable(v); }},
      {"tls.key", {"HYDRA_TLS_KEY"}, "tls-key", [](ServeConfig& c, const std::string& v) { c.tls_key = readable(v); }},
      {"tls.node_ca", {"HYDRA_TLS_NODE_CA"}, "tls-node-ca",
       [](ServeConfig& c, const std::string& v) { c.tls_node_ca = readable(v); }},
      {"nodes", {"HYDRA_NODES"}, "", [](ServeConfig& c, const std::string& v) { c.nodes = split_list(v); }},
      {"rpc_servers", {"HYDRA_RPC_SERVERS"}, "", [](ServeConfig& c, const std::string& v) { c.rpc_servers = split_list(v); }},
      {"discovery.enabled", {"HYDRA_DISCOVERY", "SOLLOL_DISCOVERY_ENABLED"}, "",
       [](ServeConfig& c, const std::string& v) { c.discovery = to_bool(v); }},
      {"discovery.timeout_s", {"HYDRA_DISCOVERY_TIMEOUT", "SOLLOL_DISCOVERY_TIMEOUT"}, "",
       [](ServeConfig& c, const std::string& v) { c.discovery_timeout_s = to_number(v, 0.01, 60); }},
      {"discovery.cidrs", {"HYDRA_DISCOVERY_CIDRS"}, "",
       [](ServeConfig& c, const std::string& v) { c.discovery_targets = cidrs(v, true); }},
      {"discovery.allowed", {"HYDRA_DISCOVERY_ALLOWED"}, "",
       [](ServeConfig& c, const std::string& v) { c.registration.allowed = cidrs(v, false); }},
      {"discovery.ports", {"HYDRA_DISCOVERY_PORTS"}, "",
       [](ServeConfig& c, const std::string& v) {
         c.discovery_ports.clear();
         for (const auto& p : split_list(v)) c.discovery_ports.push_back(static_cast<uint16_t>(to_whole(p, 1, 65535)));
       }},
      {"discovery.rpc_ports", {"HYDRA_DISCOVERY_RPC_PORTS"}, "",
       [](ServeConfig& c, const std::string& v) {
         c.discovery_rpc_ports.clear();
         for (const auto& p : split_list(v)) c.discovery_rpc_ports.push_back(static_cast<uint16_t>(to_whole(p, 1, 65535)));
       }},
      {"health.dns_interval_s", {}, "",
       [](ServeConfig& c, const std::string& v) { c.health.dns_interval = seconds_to_ms(v, 1, 86400); }},
      {"discovery.interval_s", {"HYDRA_DISCOVERY_INTERVAL"}, "",
       [](ServeConfig& c, const std::string& v) { c.discovery_interval = seconds_to_ms(v, 0.1, 86400); }},
      {"discovery.token", {"HYDRA_REGISTRATION_TOKEN"}, "",
       [](ServeConfig& c, const std::string& v) { c.registration.token = v; }},
      {"discovery.open_registration", {"HYDRA_OPEN_REGISTRATION"}, "",
       [](ServeConfig& c, const std::string& v) { c.open_registration = to_bool(v); }},
      {"cors.origins", {"HYDRA_ORIGINS", "OLLAMA_ORIGINS"}, "",
       [](ServeConfig& c, const std::string& v) { c.cors_origins = split_list(v); }},
      {"auth.keys_file", {"HYDRA_API_KEYS_FILE"}, "", [](ServeConfig& c, const std::string& v) { c.keys_file = v; }},
      {"auth.metrics", {"HYDRA_AUTH_METRICS"}, "",
       [](ServeConfig& c, const std::string& v) {
         if (v != "open" && v != "admin") throw std::invalid_argument("expected open or admin");
         c.metrics_admin = v == "admin";
       }},
      {"discovery.grace_s", {"HYDRA_DISCOVERY_GRACE"}, "",
       [](ServeConfig& c, const std::string& v) { c.registration.grace = seconds_to_ms(v, 0.1, 86400); }},
      {"vram_monitoring", {"HYDRA_VRAM_MONITORING", "SOLLOL_VRAM_MONITORING"}, "",
       [](ServeConfig& c, const std::string& v) { c.vram_monitoring = to_bool(v); }},
      {"data_dir", {"HYDRA_DATA_DIR"}, "data-dir", [](ServeConfig& c, const std::string& v) { c.data_dir = v; }},
      {"log_level", {"HYDRA_LOG_LEVEL", "SOLLOL_LOG_LEVEL"}, "log-level",
       [](ServeConfig& c, const std::string& v) {
         std::string s;
         for (char ch : v) s += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
         if (s == "warning") s = "warn";
         for (const char* ok : {"trace", "debug", "info", "warn", "error", "critical", "off"})
           if (s == ok) {
             c.log_level = s;
             return;
           }
         throw std::invalid_argument("expected trace, debug, info, warn, error or off");
       }},
      {"health.interval_s", {"HYDRA_HEALTH_INTERVAL", "SOLLOL_HEALTH_CHECK_INTERVAL"}, "",
       [](ServeConfig& c, const std::string& v) { c.health.interval = seconds_to_ms(v, 0.05, 3600); }},
      {"health.suspect_interval_s", {}, "",
       [](ServeConfig& c, const std::string& v) { c.health.suspect_interval = seconds_to_ms(v, 0.05, 3600); }},
      {"health.models_interval_s", {"HYDRA_MODELS_INTERVAL"}, "",
       [](ServeConfig& c, const std::string& v) { c.health.models_interval = seconds_to_ms(v, 0.1, 3600); }},
      {"health.refresh_min_interval_s", {}, "",
       [](ServeConfig& c, const std::string& v) { c.health.refresh_min_interval = seconds_to_ms(v, 0, 3600); }},
      {"health.eject_after", {}, "",
       [](ServeConfig& c, const std::string& v) { c.health.eject_after = static_cast<int>(to_whole(v, 1, 100)); }},
      {"timeouts.connect_ms", {"HYDRA_CONNECT_TIMEOUT_MS"}, "",
       [](ServeConfig& c, const std::string& v) { c.relay.timeouts.connect = to_ms(v, 1, 600'000); }},
      {"timeouts.first_byte_ms", {"HYDRA_FIRST_BYTE_TIMEOUT_MS"}, "",
       [](ServeConfig& c, const std::string& v) { c.relay.timeouts.first_byte = to_ms(v, 1, 86'400'000); }},
      {"timeouts.idle_ms", {"HYDRA_IDLE_TIMEOUT_MS"}, "",
       [](ServeConfig& c, const std::string& v) { c.relay.timeouts.idle = to_ms(v, 1, 86'400'000); }},
      {"timeouts.total_s", {"HYDRA_TOTAL_TIMEOUT"}, "",
       [](ServeConfig& c, const std::string& v) { c.relay.timeouts.total = seconds_to_ms(v, 0, 7 * 86400); }},
      {"timeouts.pool_idle_s", {"HYDRA_POOL_IDLE_TIMEOUT"}, "",
       [](ServeConfig& c, const std::string& v) { c.pool_idle = seconds_to_ms(v, 0, 3600); }},
      {"shutdown.grace_s", {"HYDRA_SHUTDOWN_GRACE"}, "",
       [](ServeConfig& c, const std::string& v) { c.shutdown_grace = seconds_to_ms(v, 0, 86400); }},
      {"limits.body_mb", {"HYDRA_BODY_LIMIT_MB"}, "",
       [](ServeConfig& c, const std::string& v) { c.body_limit_mb = static_cast<std::size_t>(to_whole(v, 1, 4096)); }},
      {"limits.header_timeout_ms", {}, "",
       [](ServeConfig& c, const std::string& v) { c.header_timeout = to_ms(v, 10, 600'000); }},
      {"limits.body_min_rate_kb", {}, "",
       [](ServeConfig& c, const std::string& v) { c.body_min_rate_kb = static_cast<std::size_t>(to_whole(v, 0, 1e6)); }},
      {"limits.body_window_ms", {}, "",
       [](ServeConfig& c, const std::string& v) { c.body_window = to_ms(v, 10, 600'000); }},
      {"queue.max", {"HYDRA_QUEUE_MAX"}, "",
       [](ServeConfig& c, const std::string& v) { c.queue.max_waiting = static_cast<std::size_t>(to_whole(v, 0, 1e6)); }},
      {"queue.timeout_s", {"HYDRA_QUEUE_TIMEOUT"}, "",
       [](ServeConfig& c, const std::string& v) { c.queue.max_wait = seconds_to_ms(v, 0.01, 86400); }},
      {"queue.aging_s", {}, "",
       [](ServeConfig& c, const std::string& v) { c.queue.aging_step = seconds_to_ms(v, 0.01, 86400); }},
      {"routing.policy", {"HYDRA_ROUTING_POLICY"}, "",
       [](ServeConfig& c, const std::string& v) {
         auto p = routing::parse_policy(v);
         if (!p) throw std::invalid_argument("expected scored, round_robin or least_connections");
         c.policy = *p;
       }},
      {"routing.weights.resident", {}, "", [](ServeConfig& c, const std::string& v) { c.weights.resident = to_number(v, 0, 100); }},
      {"routing.weights.fits", {}, "", [](ServeConfig& c, const std::string& v) { c.weights.fits = to_number(v, 0, 100); }},
      {"routing.weights.slots", {}, "", [](ServeConfig& c, const std::string& v) { c.weights.slots = to_number(v, 0, 100); }},
      {"routing.weights.speed", {}, "", [](ServeConfig& c, const std::string& v) { c.weights.speed = to_number(v, 0, 100); }},
      {"routing.weights.errors", {}, "", [](ServeConfig& c, const std::string& v) { c.weights.errors = to_number(v, 0, 100); }},
      {"routing.weights.locality", {}, "", [](ServeConfig& c, const std::string& v) { c.weights.locality = to_number(v, 0, 100); }},
      {"routing.weights.prefix", {"HYDRA_ROUTING_PREFIX_WEIGHT"}, "",
       [](ServeConfig& c, const std::string& v) { c.weights.prefix = to_number(v, 0, 100); }},
      {"limits.max_attempts", {"HYDRA_MAX_ATTEMPTS"}, "",
       [](ServeConfig& c, const std::string& v) { c.relay.max_attempts = static_cast<int>(to_whole(v, 1, 100)); }},
      {"failover.continue_streams", {"HYDRA_CONTINUE_STREAMS"}, "",
       [](ServeConfig& c, const std::string& v) { c.relay.continue_streams = to_bool(v); }},
      {"limits.line_kb", {"HYDRA_LINE_LIMIT_KB"}, "",
       [](ServeConfig& c, const std::string& v) {
         c.relay.limits.line_bytes = static_cast<std::size_t>(to_whole(v, 1, 1'048'576)) * 1024;
       }},
      {"limits.reply_mb", {"HYDRA_REPLY_LIMIT_MB"}, "",
       [](ServeConfig& c, const std::string& v) {
         c.relay.limits.reply_bytes = static_cast<std::size_t>(to_whole(v, 1, 65'536)) * 1024 * 1024;
       }},
      {"models.light", {"HYDRA_MODEL_LIGHT"}, "", [](ServeConfig& c, const std::string& v) { c.orchestration.light_model = model_name(v); }},
      {"models.heavy", {"HYDRA_MODEL_HEAVY"}, "", [](ServeConfig& c, const std::string& v) { c.orchestration.heavy_model = model_name(v); }},
      {"models.code", {"HYDRA_MODEL_CODE"}, "", [](ServeConfig& c, const std::string& v) { c.orchestration.code_model = model_name(v); }},
      {"models.reasoning", {"HYDRA_MODEL_REASONING"}, "",
       [](ServeConfig& c, const std::string& v) { c.orchestration.reasoning_model = model_name(v); }},
      {"models.general", {"HYDRA_MODEL_GENERAL"}, "",
       [](ServeConfig& c, const std::string& v) { c.orchestration.general_model = model_name(v); }},
      {"models.code_extra", {}, "", [](ServeConfig& c, const std::string& v) { c.orchestration.code_extra = split_list(v); }},
      {"models.reasoning_extra", {}, "",
       [](ServeConfig& c, const std::string& v) { c.orchestration.reasoning_extra = split_list(v); }},
      {"models.general_extra", {}, "",
       [](ServeConfig& c, const std::string& v) { c.orchestration.general_extra = split_list(v); }},
      {"orchestrate.fanout", {"HYDRA_ORCHESTRATE_FANOUT"}, "",
       [](ServeConfig& c, const std::string& v) {
         c.orchestration.fanout = static_cast<int>(to_whole(v, 1, orchestrate::kMaxFanout));
       }},
      {"orchestrate.max_subtasks", {"HYDRA_ORCHESTRATE_MAX_SUBTASKS"}, "",
       [](ServeConfig& c, const std::string& v) {
         c.orchestration.max_subtasks = static_cast<int>(to_whole(v, 1, orchestrate::kMaxSubtasks));
       }},
      {"orchestrate.max_runs", {"HYDRA_ORCHESTRATE_MAX_RUNS"}, "",
       [](ServeConfig& c, const std::string& v) { c.orchestration.max_runs = static_cast<int>(to_whole(v, 1, 10'000)); }},
      {"cache.mode", {"HYDRA_CACHE_MODE"}, "",
       [](ServeConfig& c, const std::string& v) {
         auto mode = memory::parse_mode(v);
         if (!mode) throw std::invalid_argument("expected deterministic, always or off");
         c.cache.mode = *mode;
       }},
      {"cache.l1_mb", {"HYDRA_CACHE_L1_MB"}, "",
       [](ServeConfig& c, const std::string& v) {
         c.cache.l1_bytes = static_cast<std::size_t>(to_whole(v, 1, 1'048'576)) << 20;
       }},
      {"cache.l2_mb", {"HYDRA_CACHE_L2_MB"}, "",
       [](ServeConfig& c, const std::string& v) {
         c.cache.l2_bytes = static_cast<std::size_t>(to_whole(v, 0, 16'777'216)) << 20;
       }},
      {"cluster.redis_url", {"HYDRA_REDIS_URL"}, "redis-url",
       [](ServeConfig& c, const std::string& v) {
         std::string error;
         if (!v.empty() && !state::parse_redis_url(v, error)) throw std::invalid_argument(error);
         c.redis_url = v;
       }},
      {"cluster.redis_prefix", {"HYDRA_REDIS_PREFIX"}, "",
       [](ServeConfig& c, const std::string& v) { c.shared.prefix = word(v, 64, "a short prefix such as hydra:"); }},
      {"cluster.lease_ttl_s", {"HYDRA_LEASE_TTL_S"}, "",
       [](ServeConfig& c, const std::string& v) {
         c.shared.lease_ttl = std::chrono::milliseconds(static_cast<long long>(to_number(v, 0.3, 3600) * 1000));
       }},
      {"gateway_id", {"HYDRA_GATEWAY_ID"}, "gateway-id",
       [](ServeConfig& c, const std::string& v) { c.shared.gateway_id = word(v, 128, "a name such as gw-1"); }},
      {"cache.redis_url", {"HYDRA_CACHE_REDIS_URL"}, "",
       [](ServeConfig& c, const std::string& v) {
         std::string error;
         if (!v.empty() && !state::parse_redis_url(v, error)) throw std::invalid_argument(error);
         c.cache.redis_url = v;
       }},
      {"cache.redis_timeout_ms", {"HYDRA_REDIS_TIMEOUT_MS"}, "",
       [](ServeConfig& c, const std::string& v) {
         c.cache.redis_timeout = std::chrono::milliseconds(static_cast<long long>(to_whole(v, 1, 60'000)));
       }},
      {"cache.semantic.enabled", {"HYDRA_CACHE_SEMANTIC"}, "",
       [](ServeConfig& c, const std::string& v) { c.cache.semantic.enabled = to_bool(v); }},
      {"cache.semantic.model", {"HYDRA_CACHE_SEMANTIC_MODEL"}, "",
       [](ServeConfig& c, const std::string& v) { c.cache.semantic.model = model_name(v); }},
      {"cache.semantic.threshold", {"HYDRA_CACHE_SEMANTIC_THRESHOLD"}, "",
       [](ServeConfig& c, const std::string& v) { c.cache.semantic.threshold = to_number(v, 0.5, 1.0); }},
      {"cache.semantic.max_entries", {}, "",
       [](ServeConfig& c, const std::string& v) {
         c.cache.semantic.max_entries = static_cast<std::size_t>(to_whole(v, 1, 10'000'000));
       }},
      {"cache.ttl_s", {"HYDRA_CACHE_TTL"}, "",
       [](ServeConfig& c, const std::string& v) { c.cache.ttl_s = to_whole(v, 1, 31'536'000); }},
  };
  return table;
}

void apply(ServeConfig& c, const Setting& s, const std::string& value, const std::string& origin) {
  try {
    s.set(c, value);
  } catch (const std::invalid_argument& e) {
    bad(fmt::format("setting {} ({}): bad value \"{}\": {}", s.key, origin, value, e.what()));
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
  if (c.cache.redis_url.empty()) c.cache.redis_url = c.redis_url;  // one Redis serves both unless told otherwise
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
  if (src.flags.count("no-discovery")) c.discovery = false;
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
    if (!in) throw ConfigError("setting config: cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    src.file_text = text.str();
    src.file_name = path;
    src.file_path = path;
  }
  return src;
}

}  // namespace hydra::app
