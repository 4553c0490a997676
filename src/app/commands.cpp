#include "app/commands.hpp"

namespace hydra::app {

void register_commands(CLI::App& app, std::function<int()>& run) {
  add_serve_command(app, run);
  add_nodes_command(app, run);
  add_client_commands(app, run);
  add_sim_command(app, run);
  add_agent_command(app, run);
  add_discover_command(app, run);
  add_diag_command(app, run);
  add_keys_command(app, run);
  add_docs_commands(app, run);
  add_config_command(app, run);
}

}  // namespace hydra::app
