#pragma once
// Every `hydra` sub-command is registered here, in one place.
#include <CLI/CLI.hpp>
#include <functional>

namespace hydra::app {

// Adds all sub-commands to `app`; `run` is set to the action of the chosen one.
void register_commands(CLI::App& app, std::function<int()>& run);

// One function per sub-command group (cmd_*.cpp).
void add_sim_command(CLI::App& app, std::function<int()>& run);
void add_serve_command(CLI::App& app, std::function<int()>& run);
void add_nodes_command(CLI::App& app, std::function<int()>& run);
void add_agent_command(CLI::App& app, std::function<int()>& run);
void add_discover_command(CLI::App& app, std::function<int()>& run);
void add_diag_command(CLI::App& app, std::function<int()>& run);
void add_keys_command(CLI::App& app, std::function<int()>& run);  // keys new, keys hash
void add_config_command(CLI::App& app, std::function<int()>& run);  // config check, config example
void add_client_commands(CLI::App& app, std::function<int()>& run);  // models, generate, orchestrate
// Hidden (packaging): `man [SUBCOMMAND]`, `completion bash`; they walk `app`, the root, at run time.
void add_docs_commands(CLI::App& app, std::function<int()>& run);

}  // namespace hydra::app
