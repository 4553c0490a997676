#pragma once
// API keys: who may use the fleet, and within which limits. Keys are configured by the SHA-256
// of the secret (the secret itself is never stored); a presented key is hashed and compared
// with every configured digest in constant time. Pure apart from OpenSSL's digest and random
// source: no sockets, no clock.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::auth {

using Digest = std::array<unsigned char, 32>;

struct Key {
  std::string name;
  Digest sha256{};
  std::vector<std::string> models;  // allowed model names, '*' globs; empty: every model
  uint32_t rpm = 0;                 // requests per minute; 0: no limit
  uint64_t tpm = 0;                 // generated tokens per minute; 0: no limit
  uint32_t max_concurrent = 0;      // requests in progress at once; 0: no limit
  int max_priority = 0;             // 1..10; 0: no cap
  bool admin = false;
};

// Every configured key. Immutable once built; a reload builds a new one.
struct KeySet {
  std::vector<Key> keys;
  bool empty() const { return keys.empty(); }
  // The key whose digest is SHA-256(presented), compared in constant time against all of
  // them (no early exit), or nullptr.
  const Key* find(std::string_view presented) const;
  const Key* named(std::string_view name) const;
};

// A bad key definition: the message names the file and the key.
struct KeyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads the keys of a TOML document: `[[auth.keys]]` (in hydra.toml) and `[[keys]]` (a separate
// keys file) are both accepted. `origin` names the file in errors. Throws KeyError.
std::vector<Key> parse_keys(std::string_view toml_text, const std::string& origin);
// Reads a TOML file's keys. Throws KeyError when it is unreadable or wrong.
std::vector<Key> load_keys_file(const std::string& path);
// The union of the keys of the given files (the config file, HYDRA_API_KEYS_FILE); names must
// be unique across them. Empty paths are skipped. Throws KeyError.
std::shared_ptr<const KeySet> load_key_set(const std::vector<std::string>& paths);

// Whether `model` matches one of the globs ('*' matches any run of characters); an empty
// list allows every model.
bool model_allowed(const Key& key, std::string_view model);
bool glob_match(std::string_view pattern, std::string_view text);

Digest sha256(std::string_view data);
std::string to_hex(const Digest& d);
std::optional<Digest> from_hex(std::string_view hex);
// Constant-time equality of two byte strings of the same length (false when lengths differ).
bool equal_secret(std::string_view a, std::string_view b);

// A fresh random key: "hyd_" + 43 characters of base64url (256 bits from OpenSSL's RNG).
std::string new_secret();
// The TOML block that configures `secret` as key `name`.
std::string toml_block(const std::string& name, const std::string& secret, bool admin);

}  // namespace hydra::auth
