#include "auth/keys.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <fstream>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace hydra::auth {

namespace {

constexpr std::string_view kKnownFields[] = {"name", "sha256", "models", "rpm", "tpm", "max_concurrent",
                                             "max_priority", "admin"};

[[noreturn]] void bad(const std::string& origin, const std::string& key, const std::string& what) {
  throw KeyError(fmt::format("{}: key {}: {}", origin, key, what));
}

int64_t whole(const toml::table& t, std::string_view field, int64_t max, const std::string& origin,
              const std::string& name) {
  const toml::node* n = t.get(field);
  if (!n) return 0;
  auto v = n->value_exact<int64_t>();
  if (!v || *v < 0 || *v > max) bad(origin, name, fmt::format("{} must be a whole number from 0 to {}", field, max));
  return *v;
}

Key parse_key(const toml::table& t, const std::string& origin, std::size_t index) {
  Key k;
  std::string label = fmt::format("#{}", index + 1);
  auto name = t["name"].value_exact<std::string>();
  if (!name || name->empty() || name->size() > 64) bad(origin, label, "name is required (1 to 64 characters)");
  for (char c : *name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      bad(origin, label, "name may use letters, digits, '-', '_' and '.' only (it is a metrics label)");
  k.name = *name;
  label = "\"" + k.name + "\"";
  for (const auto& [field, value] : t)
    if (std::find(std::begin(kKnownFields), std::end(kKnownFields), field.str()) == std::end(kKnownFields))
      bad(origin, label, fmt::format("unknown field \"{}\"", std::string(field.str())));
  auto hex = t["sha256"].value_exact<std::string>();
  auto digest = hex ? from_hex(*hex) : std::nullopt;
  if (!digest) bad(origin, label, "sha256 must be the key's SHA-256 in 64 hex digits (`hydra keys new` prints it)");
  k.sha256 = *digest;
  if (const toml::node* m = t.get("models")) {
    const toml::array* list = m->as_array();
    if (!list) bad(origin, label, "models must be a list of model names (\"*\" globs allowed)");
    for (const auto& item : *list) {
      auto s = item.value_exact<std::string>();
      if (!s || s->empty()) bad(origin, label, "models must be a list of model names (\"*\" globs allowed)");
      k.models.push_back(*s);
    }
  }
  k.rpm = static_cast<uint32_t>(whole(t, "rpm", 1'000'000, origin, label));
  k.tpm = static_cast<uint64_t>(whole(t, "tpm", int64_t{1} << 40, origin, label));
  k.max_concurrent = static_cast<uint32_t>(whole(t, "max_concurrent", 1'000'000, origin, label));
  k.max_priority = static_cast<int>(whole(t, "max_priority", 10, origin, label));
  if (t.contains("max_priority") && k.max_priority < 1) bad(origin, label, "max_priority must be from 1 to 10");
  if (const toml::node* a = t.get("admin")) {
    auto v = a->value_exact<bool>();
    if (!v) bad(origin, label, "admin must be true or false");
    k.admin = *v;
  }
  return k;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw KeyError(fmt::format("{}: cannot read the file", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::vector<Key> parse_keys(std::string_view toml_text, const std::string& origin) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    throw KeyError(fmt::format("{}: {} (line {})", origin, e.description(), e.source().begin.line));
  }
  std::vector<Key> out;
  for (const toml::node* list : {doc.at_path("auth.keys").node(), doc.get("keys")}) {
    if (!list) continue;
    const toml::array* a = list->as_array();
    if (!a) throw KeyError(fmt::format("{}: keys must be an array of tables ([[auth.keys]] or [[keys]])", origin));
    for (const auto& item : *a) {
      const toml::table* t = item.as_table();
      if (!t) throw KeyError(fmt::format("{}: keys must be an array of tables ([[auth.keys]] or [[keys]])", origin));
      out.push_back(parse_key(*t, origin, out.size()));
    }
  }
  return out;
}

std::vector<Key> load_keys_file(const std::string& path) { return parse_keys(read_file(path), path); }

std::shared_ptr<const KeySet> load_key_set(const std::vector<std::string>& paths) {
  auto set = std::make_shared<KeySet>();
  std::set<std::string> names;
  for (const auto& path : paths) {
    if (path.empty()) continue;
    for (auto& k : load_keys_file(path)) {
      if (!names.insert(k.name).second) throw KeyError(fmt::format("{}: key \"{}\" is defined twice", path, k.name));
      set->keys.push_back(std::move(k));
    }
  }
  return set;
}

const Key* KeySet::find(std::string_view presented) const {
  const Digest d = sha256(presented);
  const Key* found = nullptr;
  for (const auto& k : keys)
    if (CRYPTO_memcmp(k.sha256.data(), d.data(), d.size()) == 0 && !found) found = &k;
  return found;
}

const Key* KeySet::named(std::string_view name) const {
  for (const auto& k : keys)
    if (k.name == name) return &k;
  return nullptr;
}

bool glob_match(std::string_view p, std::string_view t) {
  // Iterative '*' matching with one backtrack point: linear in practice, no recursion.
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && p[pi] == t[ti]) {
      ++pi;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool model_allowed(const Key& key, std::string_view model) {
  if (key.models.empty()) return true;
  for (const auto& g : key.models)
    if (glob_match(g, model)) return true;
  // "llama3" names "llama3:latest", as Ollama reads it.
  if (model.find(':') == std::string_view::npos) {
    const std::string tagged = std::string(model) + ":latest";
    for (const auto& g : key.models)
      if (glob_match(g, tagged)) return true;
  }
  return false;
}

Digest sha256(std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

std::string to_hex(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(d.size() * 2);
  for (unsigned char c : d) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::optional<Digest> from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Digest d{};
  for (std::size_t i = 0; i < d.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    d[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return d;
}

bool equal_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string new_secret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes from OpenSSL");
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "hyd_";
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kB64[(acc << (6 - bits)) & 63];
  return out;
}

std::string toml_block(const std::string& name, const std::string& secret, bool admin) {
  std::string out = fmt::format("[[auth.keys]]\nname = \"{}\"\nsha256 = \"{}\"\n", name, to_hex(sha256(secret)));
  if (admin) out += "admin = true\n";
  else out += "# models = [\"llama3.2:*\"]\n# rpm = 60\n# tpm = 100000\n# max_concurrent = 4\n# max_priority = 5\n";
  return out;
}

}  // namespace hydra::auth
