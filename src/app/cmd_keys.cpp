// `hydra keys new NAME [--admin]`: a fresh random API key, printed once with the TOML block that
// configures it (only the key's SHA-256 goes into the configuration). `hydra keys hash`: the
// digest of a key read from standard input, for keys made elsewhere.
#include "app/commands.hpp"
#include "auth/keys.hpp"

#include <fmt/format.h>
#include <iostream>

namespace hydra::app {

void add_keys_command(CLI::App& app, std::function<int()>& run) {
  auto* keys = app.add_subcommand("keys", "make API keys for the gateway (see the README's Security section)");
  keys->require_subcommand(1);
  struct NewFlags {
    std::string name;
    bool admin = false;
  };
  auto flags = std::make_shared<NewFlags>();
  auto* make = keys->add_subcommand("new", "print a new random key once, and the [[auth.keys]] block to paste");
  make->add_option("name", flags->name, "the key's name (letters, digits, - _ .), shown in /stats and /metrics")
      ->required();
  make->add_flag("--admin", flags->admin, "may manage nodes and models and read the dashboard's live views");
  make->callback([&run, flags] {
    run = [flags] {
      std::string block;
      std::string secret = auth::new_secret();
      block = auth::toml_block(flags->name, secret, flags->admin);
      try {  // the block must read back as a valid key (checks the name)
        auth::parse_keys(block, "the new key");
      } catch (const auth::KeyError& e) {
        fmt::print(stderr, "hydra keys new: {}\n", e.what());
        return 2;
      }
      fmt::print(stderr, "The key (shown once; Hydra keeps only its SHA-256):\n");
      fmt::print("{}\n", secret);
      fmt::print(stderr, "\nAdd this to hydra.toml or to the file HYDRA_API_KEYS_FILE names, then send SIGHUP:\n\n");
      fmt::print(stderr, "{}", block);
      return 0;
    };
  });
  auto* hash = keys->add_subcommand("hash", "print the SHA-256 of a key read from standard input");
  hash->callback([&run] {
    run = [] {
      std::string line;
      std::getline(std::cin, line);
      if (line.empty()) {
        fmt::print(stderr, "hydra keys hash: give the key on standard input\n");
        return 2;
      }
      fmt::print("{}\n", auth::to_hex(auth::sha256(line)));
      return 0;
    };
  });
}

}  // namespace hydra::app
