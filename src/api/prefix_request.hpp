#pragma once
// Prefix affinity's side of a model request (routing/prefix.hpp has the index and scorer):
//  - the key of the prompt the node will evaluate, read from the Ollama body sent to it
//    (every API's model calls are Ollama calls by then: /api/chat's messages,
//    /api/generate's system text and prompt), and the request's keep_alive;
//  - when a node is given the request, the index expects that node's slot to hold the prompt
//    from then on: Ollama's runner replaces a slot's cache as the request starts, so a request
//    without a key (a short prompt) still takes a slot's cache away from whatever it held;
//  - when it was served: the metrics count the tokens matched, the session is pinned, and what
//    nodes no longer hold is swept out (once a second).
#include "api/attempt.hpp"
#include "api/gateway.hpp"
#include "api/ollama_request.hpp"
#include "routing/prefix.hpp"

#include <memory>

namespace hydra::api {

struct PrefixFacts {
  bool generates = false;                         // a generation: it takes a slot's cache
  std::shared_ptr<const routing::PrefixKey> key;  // null: no prompt, or shorter than one block
  Nanos keep_alive = std::chrono::minutes(5);     // < 0: as long as the node holds the model
};

// Reads the body only when it may hold a whole block, and only up to this size (beyond it, a
// request carries images, and parsing it would hold it twice): larger ones are not keyed.
inline constexpr std::size_t kPrefixBodyLimit = 2 * 1024 * 1024;
// Any thread.
PrefixFacts prefix_of(const Upstream& upstream);
// The same from the body its handler read already (`body_size`: its length in bytes; `body`
// read with its texts).
PrefixFacts prefix_of(std::string_view target, const OllamaFacts& body, std::size_t body_size);
// Whether routing uses prefix affinity at all (the scored policy with a prefix weight): when it
// does not, no request's prompt is read for it.
bool keys_prefixes(const Gateway& gw);

// What a served request tells prefix affinity.
struct PrefixServed {
  bool keyed = false;           // it had a key: the metrics count it
  uint64_t matched_tokens = 0;  // of its prompt, on the node that served it
  std::string session;          // X-Hydra-Session
  PrefixFacts moved;            // a failover finished it on another node: that one holds it now
  int moved_slots = 1;
};

// Control thread: `node` was given the request (of X-Hydra-Session `session`, if any).
void prefix_sent(Gateway& gw, const cluster::NodeView& node, const std::string& model, const PrefixFacts& facts,
                 const std::string& session);
// Control thread: `node_id` served it.
void prefix_served(Gateway& gw, const std::string& node_id, const std::string& model, const PrefixServed& served);

}  // namespace hydra::api
