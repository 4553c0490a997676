// hydra: one binary, sub-commands (see app/commands.cpp).
#include "app/commands.hpp"
#include "app/version.hpp"

#include <fmt/format.h>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"Hydra: one endpoint for a fleet of Ollama and llama.cpp servers", "hydra"};
  app.set_version_flag("--version", std::string("hydra ") + hydra::kVersion);
  app.require_subcommand(1);
  std::function<int()> run;
  hydra::app::register_commands(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run ? run() : 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "hydra: {}\n", e.what());
    return 1;
  }
}
