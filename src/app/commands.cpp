#include "app/commands.hpp"

#include <fmt/format.h>

namespace hydra::app {

namespace {

struct Planned {
  const char* name;
  const char* what;
  const char* issue;
};

// Sub-commands that are part of the design but not built yet: they say so and fail.
constexpr Planned kPlanned[] = {
    {"diag", "check connectivity to nodes and explain problems", "#3"},
};

}  // namespace

void register_commands(CLI::App& app, std::function<int()>& run) {
  add_serve_command(app, run);
  add_nodes_command(app, run);
  add_client_commands(app, run);
  add_sim_command(app, run);
  add_agent_command(app, run);
  add_discover_command(app, run);
  for (const auto& p : kPlanned) {
    auto* sub = app.add_subcommand(p.name, std::string(p.what) + " (not built yet)");
    sub->allow_extras();
    sub->callback([&run, p] {
      run = [p] {
        fmt::print(stderr, "hydra {}: not built yet (planned in issue {}).\n", p.name, p.issue);
        return 2;
      };
    });
  }
}

}  // namespace hydra::app
