#include "app/config_settings.hpp"
#include "common/whole_number.hpp"
#include "routing/policy.hpp"

#include "http/server.hpp"
#include "memory/policy.hpp"

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <stdexcept>

namespace hydra::app {

namespace {

using Text = std::optional<std::string>;

bool to_bool(const std::string& v) {
  std::string s;
  for (char c : v) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  throw std::invalid_argument("expected true or false");
}

double to_number(const std::string& v, double min, double max) {
  const auto read = whole_number<double>(v);
  if (!read) throw std::invalid_argument("expected a number");
  const double out = *read;
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

// A file to write: its directory must exist now (the file is made when it is opened).
std::string in_a_directory(const std::string& v) {
  if (v.empty()) return v;
  const std::filesystem::path dir = std::filesystem::path(v).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
    throw std::invalid_argument(fmt::format("the directory {} does not exist", dir.string()));
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

std::vector<uint16_t> ports(const std::string& v) {
  std::vector<uint16_t> out;
  for (const auto& p : split_list(v)) out.push_back(static_cast<uint16_t>(to_whole(p, 1, 65535)));
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

std::string lower(const std::string& v) {
  std::string s;
  for (char ch : v) s += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// One of `choices` (case-insensitive).
std::string one_of(const std::string& v, std::initializer_list<const char*> choices) {
  const std::string s = lower(v);
  std::string list;
  for (const char* c : choices) {
    if (s == c) return s;
    list += (list.empty() ? "" : ", ") + std::string(c);
  }
  throw std::invalid_argument("expected one of " + list);
}

std::string redis_url(const std::string& v) {
  std::string error;
  if (!v.empty() && !state::parse_redis_url(v, error)) throw std::invalid_argument(error);
  return v;
}

// The getters' TOML.
Text str(const std::string& v) { return toml_quote(v); }
Text str_or_none(const std::string& v) { return v.empty() ? Text() : str(v); }
Text boolean(bool v) { return v ? "true" : "false"; }
Text number(double v) { return fmt::format("{}", v); }
Text seconds(std::chrono::nanoseconds v) { return number(std::chrono::duration<double>(v).count()); }
Text millis(std::chrono::milliseconds v) { return std::to_string(v.count()); }
Text list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& i : items) out += (out.size() > 1 ? ", " : "") + toml_quote(i);
  return out + "]";
}
Text cidr_list(const std::vector<cluster::Cidr>& items) {
  std::vector<std::string> text;
  for (const auto& c : items) text.push_back(c.to_string());
  return list(text);
}
Text port_list(const std::vector<uint16_t>& items) {
  std::string out = "[";
  for (auto p : items) out += (out.size() > 1 ? ", " : "") + std::to_string(p);
  return out + "]";
}

#define SET [](ServeConfig & c, const std::string& v)
#define GET [](const ServeConfig& c) -> Text

}  // namespace

std::string toml_quote(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') out += {'\\', ch};
    else if (u < 0x20 || u == 0x7f) out += fmt::format("\\u{:04X}", u);
    else out += ch;
  }
  return out + "\"";
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = {
      // Listening, nodes, files
      {"listen", {"HYDRA_LISTEN"}, "listen", SET { c.listen = endpoint(v); }, GET { return str(c.listen); },
       "Where the Ollama and OpenAI APIs listen (HOST:PORT; 0.0.0.0 for every interface)."},
      {"threads", {"HYDRA_THREADS"}, "threads", SET { c.threads = static_cast<int>(to_whole(v, 0, 256)); },
       GET { return std::to_string(c.threads); }, "Threads serving the API (the control thread and threads - 1 workers), 0 to 256 (0: one per core)."},
      {"dashboard_port", {"SOLLOL_DASHBOARD_PORT"}, "",
       SET {
         auto port = static_cast<int>(to_whole(v, 0, 65535));
         c.dashboard_listen = c.dashboard_listen.substr(0, c.dashboard_listen.rfind(':')) + ":" + std::to_string(port);
       },
       GET { return c.dashboard_listen.substr(c.dashboard_listen.rfind(':') + 1); },
       ""},
      {"dashboard_listen", {"HYDRA_DASHBOARD_LISTEN"}, "dashboard-listen", SET { c.dashboard_listen = endpoint(v); },
       GET { return str(c.dashboard_listen); }, "Where the web dashboard listens (HOST:PORT)."},
      {"dashboard", {"HYDRA_DASHBOARD", "SOLLOL_DASHBOARD_ENABLED"}, "", SET { c.dashboard_enabled = to_bool(v); },
       GET { return boolean(c.dashboard_enabled); }, "Serve the web dashboard."},
      {"nodes", {"HYDRA_NODES"}, "", SET { c.nodes = split_list(v); }, GET { return list(c.nodes); },
       "Ollama or llama-server nodes by URL (--node, repeatable); none and no discovery: http://127.0.0.1:11434."},
      {"rpc_servers", {"HYDRA_RPC_SERVERS"}, "", SET { c.rpc_servers = split_list(v); }, GET { return list(c.rpc_servers); },
       "llama.cpp rpc-servers to probe (host:port), besides those discovery finds."},
      {"vram_monitoring", {"HYDRA_VRAM_MONITORING", "SOLLOL_VRAM_MONITORING"}, "", SET { c.vram_monitoring = to_bool(v); },
       GET { return boolean(c.vram_monitoring); }, "Ask each node's `hydra agent` for its free VRAM and RAM."},
      {"data_dir", {"HYDRA_DATA_DIR"}, "data-dir", SET { c.data_dir = v; }, GET { return str(c.data_dir); },
       "Where Hydra keeps its files (the cache's SQLite file, runs); default ~/.local/share/hydra.",
       "\"/var/lib/hydra\""},
      {"log_level", {"HYDRA_LOG_LEVEL", "SOLLOL_LOG_LEVEL"}, "log-level",
       SET {
         c.log_level = one_of(lower(v) == "warning" ? "warn" : v, {"trace", "debug", "info", "warn", "error", "critical", "off"});
       },
       GET { return str(c.log_level); }, "The application log's level: trace, debug, info, warn, error, critical or off."},
      {"gateway_id", {"HYDRA_GATEWAY_ID"}, "gateway-id", SET { c.shared.gateway_id = word(v, 128, "a name such as gw-1"); },
       GET { return str_or_none(c.shared.gateway_id); }, "This gateway's name among several (default: the API's host:port).",
       "\"gw-1\""},
      // TLS
      {"tls.cert", {"HYDRA_TLS_CERT"}, "tls-cert", SET { c.tls_cert = readable(v); }, GET { return str_or_none(c.tls_cert); },
       "PEM certificate chain, leaf first; with tls.key the API and the dashboard serve HTTPS (re-read on SIGHUP).",
       "\"/etc/hydra/tls/cert.pem\""},
      {"tls.key", {"HYDRA_TLS_KEY"}, "tls-key", SET { c.tls_key = readable(v); }, GET { return str_or_none(c.tls_key); },
       "PEM private key of tls.cert.", "\"/etc/hydra/tls/key.pem\""},
      {"tls.node_ca", {"HYDRA_TLS_NODE_CA"}, "tls-node-ca", SET { c.tls_node_ca = readable(v); },
       GET { return str_or_none(c.tls_node_ca); }, "PEM CA file https:// nodes are verified with (default: the system's CAs).",
       "\"/etc/hydra/tls/nodes-ca.pem\""},
      // Discovery and registration
      {"discovery.enabled", {"HYDRA_DISCOVERY", "SOLLOL_DISCOVERY_ENABLED"}, "", SET { c.discovery = to_bool(v); },
       GET { return boolean(c.discovery); }, "Scan the local networks for nodes and accept registrations (--no-discovery: off)."},
      {"discovery.timeout_s", {"HYDRA_DISCOVERY_TIMEOUT", "SOLLOL_DISCOVERY_TIMEOUT"}, "",
       SET { c.discovery_timeout_s = to_number(v, 0.01, 60); }, GET { return number(c.discovery_timeout_s); },
       "How long a scanned address may take to answer (seconds)."},
      {"discovery.cidrs", {"HYDRA_DISCOVERY_CIDRS"}, "", SET { c.discovery_targets = cidrs(v, true); },
       GET { return cidr_list(c.discovery_targets); }, "Ranges to scan (empty: the /24 of each network interface; /16 at the widest)."},
      {"discovery.allowed", {"HYDRA_DISCOVERY_ALLOWED"}, "", SET { c.registration.allowed = cidrs(v, false); },
       GET { return cidr_list(c.registration.allowed); }, "Ranges nodes may register from."},
      {"discovery.ports", {"HYDRA_DISCOVERY_PORTS"}, "", SET { c.discovery_ports = ports(v); },
       GET { return port_list(c.discovery_ports); }, "Ports scanned for Ollama and llama-server nodes."},
      {"discovery.rpc_ports", {"HYDRA_DISCOVERY_RPC_PORTS"}, "", SET { c.discovery_rpc_ports = ports(v); },
       GET { return port_list(c.discovery_rpc_ports); }, "Ports scanned for llama.cpp rpc-servers."},
      {"discovery.interval_s", {"HYDRA_DISCOVERY_INTERVAL"}, "", SET { c.discovery_interval = seconds_to_ms(v, 0.1, 86400); },
       GET { return seconds(c.discovery_interval); }, "Time between two scans (seconds)."},
      {"discovery.token", {"HYDRA_REGISTRATION_TOKEN"}, "", SET { c.registration.token = v; },
       GET { return str_or_none(c.registration.token); },
       "Token agents need to register, heartbeat and delete nodes; also sent to the agents that start sharded models.",
       "\"CHANGE-ME\""},
      {"discovery.open_registration", {"HYDRA_OPEN_REGISTRATION"}, "", SET { c.open_registration = to_bool(v); },
       GET { return boolean(c.open_registration); },
       "Allow registration when listening beyond loopback with no token and no API keys."},
      {"discovery.grace_s", {"HYDRA_DISCOVERY_GRACE"}, "", SET { c.registration.grace = seconds_to_ms(v, 0.1, 86400); },
       GET { return seconds(c.registration.grace); }, "A registered node silent this long is forgotten (seconds)."},
      // Browsers and API keys
      {"cors.origins", {"HYDRA_ORIGINS", "OLLAMA_ORIGINS"}, "", SET { c.cors_origins = split_list(v); },
       GET { return list(c.cors_origins); }, "Browser origins allowed besides Ollama's defaults (* globs)."},
      {"auth.keys_file", {"HYDRA_API_KEYS_FILE"}, "", SET { c.keys_file = v; }, GET { return str_or_none(c.keys_file); },
       "A TOML file of [[keys]] (re-read on SIGHUP); [[auth.keys]] tables in this file work too.",
       "\"/etc/hydra/keys.toml\""},
      {"auth.metrics", {"HYDRA_AUTH_METRICS"}, "",
       SET { c.metrics_admin = one_of(v, {"open", "admin"}) == "admin"; },
       GET { return str(c.metrics_admin ? "admin" : "open"); }, "GET /metrics: open, or admin (needs an admin key)."},
      // Logs
      {"log.format", {"HYDRA_LOG_FORMAT"}, "log-format", SET { c.log_format = one_of(v, {"text", "json"}); },
       GET { return str(c.log_format); }, "The application log on stderr: text, or json (one object per line)."},
      {"log.access", {"HYDRA_ACCESS_LOG"}, "access-log", SET { c.access_log = one_of(v, {"off", "text", "json"}); },
       GET { return str(c.access_log); }, "One line per request: off, text (key=value pairs) or json."},
      {"log.access_file", {"HYDRA_ACCESS_LOG_FILE"}, "access-log-file", SET { c.access_log_file = in_a_directory(v); },
       GET { return str_or_none(c.access_log_file); },
       "The file the access log is appended to (reopened on SIGHUP); default: stderr.", "\"/var/log/hydra/access.log\""},
      // Health checks
      {"health.interval_s", {"HYDRA_HEALTH_INTERVAL", "SOLLOL_HEALTH_CHECK_INTERVAL"}, "",
       SET { c.health.interval = seconds_to_ms(v, 0.05, 3600); }, GET { return seconds(c.health.interval); },
       "Probe period of a healthy node (seconds)."},
      {"health.suspect_interval_s", {}, "", SET { c.health.suspect_interval = seconds_to_ms(v, 0.05, 3600); },
       GET { return seconds(c.health.suspect_interval); }, "Probe period of a failing or ejected node (seconds)."},
      {"health.models_interval_s", {"HYDRA_MODELS_INTERVAL"}, "", SET { c.health.models_interval = seconds_to_ms(v, 0.1, 3600); },
       GET { return seconds(c.health.models_interval); }, "How often each node's models (installed, loaded) are read (seconds)."},
      {"health.refresh_min_interval_s", {}, "", SET { c.health.refresh_min_interval = seconds_to_ms(v, 0, 3600); },
       GET { return seconds(c.health.refresh_min_interval); },
       "A request for a model no node has re-reads every node's models at most this often (seconds)."},
      {"health.eject_after", {}, "", SET { c.health.eject_after = static_cast<int>(to_whole(v, 1, 100)); },
       GET { return std::to_string(c.health.eject_after); }, "Consecutive failures that take a node out of routing."},
      {"health.dns_interval_s", {}, "", SET { c.health.dns_interval = seconds_to_ms(v, 1, 86400); },
       GET { return seconds(c.health.dns_interval); }, "Nodes configured by host name are resolved again this often (seconds)."},
      // Timeouts and limits
      {"timeouts.connect_ms", {"HYDRA_CONNECT_TIMEOUT_MS"}, "", SET { c.relay.timeouts.connect = to_ms(v, 1, 600'000); },
       GET { return millis(c.relay.timeouts.connect); }, "Connecting to a node."},
      {"timeouts.first_byte_ms", {"HYDRA_FIRST_BYTE_TIMEOUT_MS"}, "", SET { c.relay.timeouts.first_byte = to_ms(v, 1, 86'400'000); },
       GET { return millis(c.relay.timeouts.first_byte); }, "A node's first byte (cold loads are slow)."},
      {"timeouts.idle_ms", {"HYDRA_IDLE_TIMEOUT_MS"}, "", SET { c.relay.timeouts.idle = to_ms(v, 1, 86'400'000); },
       GET { return millis(c.relay.timeouts.idle); }, "The longest gap between two chunks of a node's reply."},
      {"timeouts.total_s", {"HYDRA_TOTAL_TIMEOUT"}, "", SET { c.relay.timeouts.total = seconds_to_ms(v, 0, 7 * 86400); },
       GET { return seconds(c.relay.timeouts.total); }, "A whole relayed request, then an error line (seconds; 0: none)."},
      {"timeouts.pool_idle_s", {"HYDRA_POOL_IDLE_TIMEOUT"}, "", SET { c.pool_idle = seconds_to_ms(v, 0, 3600); },
       GET { return seconds(c.pool_idle); }, "A connection to a node idle this long is closed, not reused (seconds; 0: never reused)."},
      {"shutdown.grace_s", {"HYDRA_SHUTDOWN_GRACE"}, "", SET { c.shutdown_grace = seconds_to_ms(v, 0, 86400); },
       GET { return seconds(c.shutdown_grace); }, "On SIGTERM, the time requests in progress have to finish (seconds)."},
      {"limits.body_mb", {"HYDRA_BODY_LIMIT_MB"}, "", SET { c.body_limit_mb = static_cast<std::size_t>(to_whole(v, 1, 4096)); },
       GET { return std::to_string(c.body_limit_mb); }, "The largest request body (MiB; larger: 413)."},
      {"limits.header_timeout_ms", {}, "", SET { c.header_timeout = to_ms(v, 10, 600'000); },
       GET { return millis(c.header_timeout); }, "A request's head must arrive in this time."},
      {"limits.body_min_rate_kb", {}, "", SET { c.body_min_rate_kb = static_cast<std::size_t>(to_whole(v, 0, 1e6)); },
       GET { return std::to_string(c.body_min_rate_kb); }, "KiB/s a request body must average over each window, else 408 (0: off)."},
      {"limits.body_window_ms", {}, "", SET { c.body_window = to_ms(v, 10, 600'000); }, GET { return millis(c.body_window); },
       "The window limits.body_min_rate_kb is measured over."},
      {"limits.max_attempts", {"HYDRA_MAX_ATTEMPTS"}, "", SET { c.relay.max_attempts = static_cast<int>(to_whole(v, 1, 100)); },
       GET { return std::to_string(c.relay.max_attempts); }, "Nodes tried for one request."},
      {"limits.line_kb", {"HYDRA_LINE_LIMIT_KB"}, "",
       SET { c.relay.limits.line_bytes = static_cast<std::size_t>(to_whole(v, 1, 1'048'576)) * 1024; },
       GET { return std::to_string(c.relay.limits.line_bytes / 1024); }, "The longest line of a node's streamed reply (KiB)."},
      {"limits.reply_mb", {"HYDRA_REPLY_LIMIT_MB"}, "",
       SET { c.relay.limits.reply_bytes = static_cast<std::size_t>(to_whole(v, 1, 65'536)) * 1024 * 1024; },
       GET { return std::to_string(c.relay.limits.reply_bytes >> 20); },
       "The longest reply Hydra holds whole, translated or collected (MiB)."},
      {"failover.continue_streams", {"HYDRA_CONTINUE_STREAMS"}, "", SET { c.relay.continue_streams = to_bool(v); },
       GET { return boolean(c.relay.continue_streams); }, "A stream whose node dies goes on on another node."},
      // Queue and routing
      {"queue.max", {"HYDRA_QUEUE_MAX"}, "", SET { c.queue.max_waiting = static_cast<std::size_t>(to_whole(v, 0, 1e6)); },
       GET { return std::to_string(c.queue.max_waiting); }, "Requests that may wait for a free slot (more: 503)."},
      {"queue.timeout_s", {"HYDRA_QUEUE_TIMEOUT"}, "", SET { c.queue.max_wait = seconds_to_ms(v, 0.01, 86400); },
       GET { return seconds(c.queue.max_wait); }, "The longest wait in the queue, then 503 (seconds)."},
      {"queue.aging_s", {}, "", SET { c.queue.aging_step = seconds_to_ms(v, 0.01, 86400); },
       GET { return seconds(c.queue.aging_step); }, "Waiting this long is worth one priority level (seconds)."},
      {"routing.policy", {"HYDRA_ROUTING_POLICY"}, "",
       SET {
         auto p = routing::parse_policy(v);
         if (!p) throw std::invalid_argument("expected scored, round_robin or least_connections");
         c.policy = *p;
       },
       GET { return str(routing::to_string(c.policy)); },
       "scored (Hydra's), or the baselines round_robin and least_connections."},
      {"routing.weights.resident", {}, "", SET { c.weights.resident = to_number(v, 0, 100); },
       GET { return number(c.weights.resident); }, "Scoring: the model is loaded on the node."},
      {"routing.weights.fits", {}, "", SET { c.weights.fits = to_number(v, 0, 100); }, GET { return number(c.weights.fits); },
       "Scoring: the model fits in the node's free VRAM."},
      {"routing.weights.slots", {}, "", SET { c.weights.slots = to_number(v, 0, 100); }, GET { return number(c.weights.slots); },
       "Scoring: free slots."},
      {"routing.weights.speed", {}, "", SET { c.weights.speed = to_number(v, 0, 100); }, GET { return number(c.weights.speed); },
       "Scoring: the node's recent speed."},
      {"routing.weights.errors", {}, "", SET { c.weights.errors = to_number(v, 0, 100); },
       GET { return number(c.weights.errors); }, "Scoring: the node's recent failures."},
      {"routing.weights.locality", {}, "", SET { c.weights.locality = to_number(v, 0, 100); },
       GET { return number(c.weights.locality); }, "Scoring: the node is on this machine, for requests that prefer local."},
      {"routing.weights.prefix", {"HYDRA_ROUTING_PREFIX_WEIGHT"}, "", SET { c.weights.prefix = to_number(v, 0, 100); },
       GET { return number(c.weights.prefix); }, "Scoring: the prompt's beginning is in the node's cache (0: prefix affinity off)."},
      // Orchestration
      {"models.light", {"HYDRA_MODEL_LIGHT"}, "", SET { c.orchestration.light_model = model_name(v); },
       GET { return str(c.orchestration.light_model); }, "Orchestration: the model that analyses and splits moderate tasks."},
      {"models.heavy", {"HYDRA_MODEL_HEAVY"}, "", SET { c.orchestration.heavy_model = model_name(v); },
       GET { return str(c.orchestration.heavy_model); }, "Orchestration: the model that splits complex tasks and synthesises."},
      {"models.code", {"HYDRA_MODEL_CODE"}, "", SET { c.orchestration.code_model = model_name(v); },
       GET { return str(c.orchestration.code_model); }, "Orchestration: code sub-tasks, and /generate's default."},
      {"models.reasoning", {"HYDRA_MODEL_REASONING"}, "", SET { c.orchestration.reasoning_model = model_name(v); },
       GET { return str(c.orchestration.reasoning_model); }, "Orchestration: reasoning sub-tasks."},
      {"models.general", {"HYDRA_MODEL_GENERAL"}, "", SET { c.orchestration.general_model = model_name(v); },
       GET { return str(c.orchestration.general_model); }, "Orchestration: general sub-tasks."},
      {"models.code_extra", {}, "", SET { c.orchestration.code_extra = split_list(v); },
       GET { return list(c.orchestration.code_extra); }, "More models for code sub-tasks, asked when orchestrate.fanout > 1."},
      {"models.reasoning_extra", {}, "", SET { c.orchestration.reasoning_extra = split_list(v); },
       GET { return list(c.orchestration.reasoning_extra); }, "More models for reasoning sub-tasks."},
      {"models.general_extra", {}, "", SET { c.orchestration.general_extra = split_list(v); },
       GET { return list(c.orchestration.general_extra); }, "More models for general sub-tasks."},
      {"orchestrate.fanout", {"HYDRA_ORCHESTRATE_FANOUT"}, "",
       SET { c.orchestration.fanout = static_cast<int>(to_whole(v, 1, orchestrate::kMaxFanout)); },
       GET { return std::to_string(c.orchestration.fanout); }, "Models asked per sub-task."},
      {"orchestrate.max_subtasks", {"HYDRA_ORCHESTRATE_MAX_SUBTASKS"}, "",
       SET { c.orchestration.max_subtasks = static_cast<int>(to_whole(v, 1, orchestrate::kMaxSubtasks)); },
       GET { return std::to_string(c.orchestration.max_subtasks); }, "Sub-tasks one plan may hold."},
      {"orchestrate.max_runs", {"HYDRA_ORCHESTRATE_MAX_RUNS"}, "",
       SET { c.orchestration.max_runs = static_cast<int>(to_whole(v, 1, 10'000)); },
       GET { return std::to_string(c.orchestration.max_runs); }, "Orchestrations at once (more: 429)."},
      // Response cache
      {"cache.mode", {"HYDRA_CACHE_MODE"}, "",
       SET {
         auto mode = memory::parse_mode(v);
         if (!mode) throw std::invalid_argument("expected deterministic, always or off");
         c.cache.mode = *mode;
       },
       GET { return str(memory::to_string(c.cache.mode)); },
       "deterministic (temperature 0 or a seed, and embeddings), always, or off."},
      {"cache.l1_mb", {"HYDRA_CACHE_L1_MB"}, "", SET { c.cache.l1_bytes = static_cast<std::size_t>(to_whole(v, 1, 1'048'576)) << 20; },
       GET { return std::to_string(c.cache.l1_bytes >> 20); }, "The in-process tier's budget (MiB)."},
      {"cache.l2_mb", {"HYDRA_CACHE_L2_MB"}, "", SET { c.cache.l2_bytes = static_cast<std::size_t>(to_whole(v, 0, 16'777'216)) << 20; },
       GET { return std::to_string(c.cache.l2_bytes >> 20); }, "The SQLite tier's budget, in data_dir/cache.db (MiB; 0: no SQLite tier)."},
      {"cache.ttl_s", {"HYDRA_CACHE_TTL"}, "", SET { c.cache.ttl_s = static_cast<int64_t>(to_whole(v, 1, 31'536'000)); },
       GET { return std::to_string(c.cache.ttl_s); }, "An entry's lifetime (seconds)."},
      {"cache.redis_url", {"HYDRA_CACHE_REDIS_URL"}, "", SET { c.cache.redis_url = redis_url(v); },
       GET { return str_or_none(c.cache.redis_url); }, "The cache's Redis tier, shared by every gateway using it (default: cluster.redis_url).",
       "\"redis://127.0.0.1:6379/1\""},
      {"cache.redis_timeout_ms", {"HYDRA_REDIS_TIMEOUT_MS"}, "",
       SET { c.cache.redis_timeout = std::chrono::milliseconds(static_cast<long long>(to_whole(v, 1, 60'000))); },
       GET { return millis(c.cache.redis_timeout); }, "The longest wait for the cache's Redis before the tier is skipped."},
      {"cache.semantic.enabled", {"HYDRA_CACHE_SEMANTIC"}, "", SET { c.cache.semantic.enabled = to_bool(v); },
       GET { return boolean(c.cache.semantic.enabled); }, "The same question worded otherwise finds its answer (needs cache.semantic.model)."},
      {"cache.semantic.model", {"HYDRA_CACHE_SEMANTIC_MODEL"}, "", SET { c.cache.semantic.model = model_name(v); },
       GET { return str_or_none(c.cache.semantic.model); }, "An embedding model the fleet has.", "\"nomic-embed-text\""},
      {"cache.semantic.threshold", {"HYDRA_CACHE_SEMANTIC_THRESHOLD"}, "", SET { c.cache.semantic.threshold = to_number(v, 0.5, 1.0); },
       GET { return number(c.cache.semantic.threshold); }, "Cosine similarity from which a question counts as the same (0.5 to 1)."},
      {"cache.semantic.max_entries", {}, "",
       SET { c.cache.semantic.max_entries = static_cast<std::size_t>(to_whole(v, 1, 10'000'000)); },
       GET { return std::to_string(c.cache.semantic.max_entries); }, "Questions the semantic index keeps, oldest dropped first."},
      // Several gateways
      {"cluster.redis_url", {"HYDRA_REDIS_URL"}, "redis-url", SET { c.redis_url = redis_url(v); },
       GET { return str_or_none(c.redis_url); },
       "redis://[[user]:password@]host[:port][/db]: gateways using one Redis share the fleet's state.",
       "\"redis://:CHANGE-ME@10.0.0.2:6379\""},
      {"cluster.redis_prefix", {"HYDRA_REDIS_PREFIX"}, "", SET { c.shared.prefix = word(v, 64, "a short prefix such as hydra:"); },
       GET { return str(c.shared.prefix); }, "Every Redis key Hydra writes begins with it."},
      {"cluster.lease_ttl_s", {"HYDRA_LEASE_TTL_S"}, "",
       SET { c.shared.lease_ttl = std::chrono::milliseconds(static_cast<long long>(to_number(v, 0.3, 3600) * 1000)); },
       GET { return seconds(c.shared.lease_ttl); }, "A gateway that stops beating loses its slot leases after this long (seconds)."},
  };
  return table;
}

#undef SET
#undef GET

}  // namespace hydra::app
