#pragma once
// `hydra serve` settings and where they come from: flags > environment > config file >
// defaults. Every setting is declared once (config.cpp) with its file key, environment
// names (HYDRA_*, and the original system's SOLLOL_* aliases) and flag.
#include "api/gateway.hpp"
#include "api/sharded.hpp"
#include "memory/cache.hpp"
#include "state/shared.hpp"
#include "auth/keys.hpp"
#include "cluster/cidr.hpp"
#include "routing/admission_queue.hpp"
#include "cluster/health.hpp"
#include "orchestrate/settings.hpp"

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hydra::app {

struct ServeConfig {
  std::string listen = "127.0.0.1:8001";
  std::string dashboard_listen = "127.0.0.1:8080";
  bool dashboard_enabled = true;
  // threads: worker threads that serve the API (0: one per core). 1: a single thread does it all.
  int threads = 0;
  std::string tls_cert;     // both set: the API and dashboard ports serve HTTPS (reloaded on SIGHUP)
  std::string tls_key;
  std::string tls_node_ca;  // CA file https:// nodes are verified with; empty: the system's CAs
  std::vector<std::string> nodes;
  bool discovery = true;
  double discovery_timeout_s = 0.5;
  std::vector<cluster::Cidr> discovery_targets;     // empty: the /24 of each network interface
  std::vector<uint16_t> discovery_ports{11434};
  std::vector<uint16_t> discovery_rpc_ports{50052};  // llama.cpp rpc-server
  std::chrono::milliseconds discovery_interval{60'000};
  bool vram_monitoring = true;
  std::string data_dir;
  std::string log_level = "info";
  std::string log_format = "text";  // log.format: the application log, text or json
  std::string access_log = "text";  // log.access: one line per request, off, text or json
  std::string access_log_file;      // log.access_file: appended to; empty: stderr
  std::size_t body_limit_mb = 64;
  std::chrono::milliseconds header_timeout{30'000};
  std::chrono::milliseconds shutdown_grace{30'000};  // SIGTERM: requests in flight may finish this long
  // timeouts.pool_idle_s: an idle connection to a node is closed after this long, not reused
  std::chrono::milliseconds pool_idle = http::kDefaultPoolIdle;
  std::size_t body_min_rate_kb = 4;               // KiB/s a request body must average (0: off)
  std::chrono::milliseconds body_window{20'000};  // ... over each window this long (else 408)
  cluster::HealthSettings health;
  api::RelaySettings relay;
  routing::QueueSettings queue;
  api::RegistrationSettings registration;
  routing::Weights weights;
  routing::Policy policy = routing::Policy::scored;
  orchestrate::Settings orchestration;  // model roles (also /generate's default model), fan-out
  // API keys ([[auth.keys]] in the config file, and HYDRA_API_KEYS_FILE): read at start-up and
  // again from `key_files` on SIGHUP.
  std::shared_ptr<const auth::KeySet> keys = std::make_shared<auth::KeySet>();
  std::vector<std::string> key_files;
  std::string keys_file;            // auth.keys_file / HYDRA_API_KEYS_FILE
  bool metrics_admin = false;       // auth.metrics = "admin"
  bool open_registration = false;   // discovery.open_registration
  std::vector<std::string> cors_origins;  // cors.origins: browser origins allowed besides Ollama's defaults
  memory::CacheSettings cache;  // cache.*: the response cache (its SQLite file goes in data_dir)
  // Several gateways: cluster.redis_url turns on the state they share (state/shared.hpp);
  // cluster.redis_prefix, cluster.lease_ttl_s, gateway_id (default: the API's host:port).
  std::string redis_url;
  state::SharedSettings shared;
  // llama.cpp (issue #21): rpc-servers to probe besides those discovery finds ("host:port"),
  // and the models sharded over them ([[sharded]]).
  std::vector<std::string> rpc_servers;
  std::vector<api::ShardedModel> sharded;
  // Where each setting's value came from ("--listen", "environment HYDRA_LISTEN", the config
  // file's path), by config-file key; a setting not listed has its default.
  std::map<std::string, std::string> origins;
};

// A bad setting: the message names the setting and where its value came from.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ConfigSources {
  std::map<std::string, std::string> flags;  // flag name (without --) -> value
  std::vector<std::string> flag_nodes;       // --node, repeatable
  std::map<std::string, std::string> env;
  std::optional<std::string> file_text;      // TOML
  std::string file_name = "config file";
  std::optional<std::string> file_path;      // re-read for API keys on SIGHUP
};

ServeConfig resolve_config(const ConfigSources& sources);

// The [[sharded]] tables of a TOML config (none: empty). Throws ConfigError naming the entry
// and the field on a bad one.
std::vector<api::ShardedModel> parse_sharded(std::string_view toml_text, const std::string& origin);

// The sources as `hydra serve` reads them: its flags, the HYDRA_*/SOLLOL_* environment, and
// the TOML file named by --config (or HYDRA_CONFIG). Throws ConfigError when that file is unreadable.
ConfigSources gather_sources(const std::map<std::string, std::string>& flags, const std::vector<std::string>& nodes,
                             const std::string& config_flag);

// The environment variables a ServeConfig reads (for tests and `hydra serve --help`).
std::vector<std::string> config_env_names();

}  // namespace hydra::app
