// hydra: one binary, sub-commands (see app/commands.cpp). Every sub-command exits 0 on success,
// 1 on failure, 2 on a usage error (CLI11's own codes, 105 and up, are not passed on).
#include "app/commands.hpp"
#include "app/version.hpp"
#include "http/descriptors.hpp"
#include "build_info.hpp"  // generated: kCommit, kBuildType

#include <exception>
#include <fmt/format.h>

int main(int argc, char** argv) {
  CLI::App app{"Hydra: one endpoint for a fleet of Ollama and llama.cpp servers", "hydra"};
  app.set_version_flag("--version", fmt::format("hydra {} (commit {}, {})", hydra::kVersion, hydra::kCommit,
                                                hydra::kBuildType));
  app.require_subcommand(1);
  std::function<int()> run;
  hydra::app::register_commands(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help and --version are successes
  }
  // A gateway holds two descriptors per relayed request, a sim one per client: each may use
  // all the open files its hard limit allows (as nginx's worker_rlimit_nofile lets it).
  hydra::http::raise_descriptor_limit();
  try {
    return run ? run() : 0;
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "hydra: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "hydra: {}\n", e.what());
    return 1;
  }
}
