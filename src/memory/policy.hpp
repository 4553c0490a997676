#pragma once
// When the response cache is read and written: the gateway's mode (cache.mode) and what a
// request asks for in its headers. Pure.
#include "memory/key.hpp"

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::memory {

enum class Mode {
  deterministic,  // only answers that come out the same again: temperature 0 or a seed given,
                  // and embeddings always
  always,         // every answer (a repeated question gets the first answer it had)
  off,
};
std::optional<Mode> parse_mode(std::string_view text);
const char* to_string(Mode m);

// Whether a request's answer may come from (and go into) the cache under `mode`. Empty: yes;
// else why not, for the X-Hydra-Cache: bypass reply. Requests that load or unload a model (an
// empty prompt or message list, keep_alive 0) always reach a node: their point is what the
// node does, not what it says.
std::string why_not_cacheable(Mode mode, Family family, const boost::json::object& body);
// Whether the body's options name a seed or a temperature: without either, deterministic mode
// never keeps a generation's answer (a caller holding the parsed body tells the cache so, and
// the cache need not look at the text).
bool names_sampling(const boost::json::object& body);
// An option that does: "seed" or "temperature".
inline bool sampling_option(std::string_view key) { return key == "seed" || key == "temperature"; }
// The same from the body's "options" value (null: none), when the caller has found it.
inline bool options_name_sampling(const boost::json::value* options) {
  const boost::json::object* o = options ? options->if_object() : nullptr;
  if (!o) return false;
  for (const auto& kv : *o)
    if (sampling_option(kv.key())) return true;
  return false;
}

// What one request asks of the cache: `Cache-Control: no-cache` (answer from the fleet, but
// store it), `no-store` (neither read nor write), `X-Hydra-Cache-TTL: SECONDS` (this entry's
// lifetime). A bad TTL is an error message for a 400.
struct RequestCachePolicy {
  bool read = true;
  bool write = true;
  std::optional<long long> ttl_s;
  std::string error;
};
RequestCachePolicy request_policy(std::string_view cache_control, std::string_view ttl_header);

}  // namespace hydra::memory
