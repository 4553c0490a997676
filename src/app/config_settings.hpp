#pragma once
// Every `hydra serve` setting, declared once: its config-file key, environment names, flag,
// how a value is read into a ServeConfig, how the effective value is written back as TOML,
// and a line of help. resolve_config (config.cpp), `hydra config check` and `hydra config
// example` (config_report.cpp: the packaged /etc/hydra/hydra.toml) all read this table.
#include "app/config.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hydra::app {

struct Setting {
  using Setter = std::function<void(ServeConfig&, const std::string&)>;
  using Getter = std::function<std::optional<std::string>(const ServeConfig&)>;
  Setting(std::string key, std::vector<std::string> env, std::string flag, Setter set, Getter get, std::string help,
          std::string example = {})
      : key(std::move(key)), env(std::move(env)), flag(std::move(flag)), set(std::move(set)), get(std::move(get)),
        help(std::move(help)), example(std::move(example)) {}

  std::string key;               // in the config file (dotted for tables)
  std::vector<std::string> env;  // first found wins; HYDRA_* before SOLLOL_*
  std::string flag;              // without "--"; empty: no flag
  // Reads a value (TOML arrays arrive comma-joined); throws std::invalid_argument.
  Setter set;
  // The effective value as a TOML value; nullopt: not set (no default).
  Getter get;
  std::string help;     // one sentence; empty: an alias of another setting, left out of listings
  std::string example;  // a TOML value shown instead of the default (none, or machine-dependent)
};

const std::vector<Setting>& settings();

// A TOML basic string: "text" with \ " and control characters escaped.
std::string toml_quote(std::string_view text);

}  // namespace hydra::app

namespace hydra::app {

// The config file with every setting commented out at its default, each under its help and
// where else it can be set (the package's /etc/hydra/hydra.toml; `hydra config example`).
// Uncommenting a default line changes nothing; "For example:" lines show settings that have
// no default, or one that depends on the machine.
std::string example_config();

// The effective settings, one `key = value` line each, with where the value came from
// (`hydra config check`), then the API keys and sharded models read.
std::string describe_config(const ServeConfig& config);

// A setting's value as output and error messages may show it (they reach terminals, tickets
// and CI logs): the registration token hidden, a Redis URL without its password.
std::string printable(const std::string& key, const std::string& value);

}  // namespace hydra::app
