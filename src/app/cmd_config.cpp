// `hydra config check [FILE]`: reads a config file (and the HYDRA_* environment) as `hydra
// serve` would, and prints the effective settings with where each came from; exit 1 on a bad
// setting. `hydra config example`: every setting commented at its default.
#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/config_settings.hpp"

#include <fmt/format.h>

namespace hydra::app {

void add_config_command(CLI::App& app, std::function<int()>& run) {
  auto* cmd = app.add_subcommand("config", "check a config file, or print one with every setting");
  cmd->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* check = cmd->add_subcommand(
      "check", "validate a config file as `hydra serve` would read it (with the HYDRA_* environment) and print the "
               "effective settings with where each came from");
  check->add_option("file", *file, "the TOML file (default: HYDRA_CONFIG; none: the environment and defaults)");
  check->callback([&run, file] {
    run = [file] {
      try {
        ServeConfig config = resolve_config(gather_sources({}, {}, *file));
        fmt::print("{}", describe_config(config));
        return 0;
      } catch (const ConfigError& e) {
        fmt::print(stderr, "hydra config check: {}\n", e.what());
        return 1;
      }
    };
  });
  auto* example = cmd->add_subcommand("example", "print a config file listing every setting, commented, at its default");
  example->callback([&run] {
    run = [] {
      fmt::print("{}", example_config());
      return 0;
    };
  });
}

}  // namespace hydra::app
