#pragma once
// Routing: which nodes may serve a request, best first, and why. Pure: a snapshot and a
// request in, a decision out; no I/O, no clock; randomness injected.
//
// Filters (routable, has the model, meets the request's constraints) -> scorers in [0,1]
// combined with weights -> best first, exact ties broken at random.
#include "cluster/snapshot.hpp"
#include "routing/prefix.hpp"
#include "routing/random.hpp"

#include <memory>

#include <string>
#include <vector>

namespace hydra::routing {

struct RouteRequest {
  std::string model;         // as the client wrote it; normalised inside
  std::string node_id;       // explicit placement: "host:port" or its URL; empty = none
  double min_vram_gb = 0;    // only nodes with this much free VRAM (or the model resident there)
  bool prefer_local = false; // favour nodes on the gateway's own machine
  int priority = 5;          // 1 (lowest) .. 10 (highest); used by admission, not by scoring
  std::vector<std::string> avoid_nodes;  // ranked last: they failed this work before (a retry)
  // Prefix affinity (prefix.hpp): the prompt's key, the index of what each node holds, and the
  // node the request's X-Hydra-Session was last served on. Unset: no prefix scoring.
  std::shared_ptr<const PrefixKey> prefix;
  const PrefixIndex* prefix_index = nullptr;
  std::string session;       // X-Hydra-Session, as the client sent it
  std::string session_node;  // ... and where that conversation was last served
  SteadyTime now{};          // for the index's keep_alive
};

struct Weights {
  double resident = 3.0;  // the model is loaded there: no cold load (seconds to minutes)
  double fits = 2.0;      // it fits in free VRAM (else partial offload or CPU)
  double slots = 2.0;     // free slots
  double speed = 1.0;     // EWMA time to first token and per-token time
  double errors = 1.0;    // recent failures
  double locality = 1.5;  // on the gateway's machine, when the request prefers local
  double prefix = 4.0;    // the prompt's beginning is in the node's KV cache (prefix.hpp)
};

struct Scores {
  double resident = 0, fits = 0, slots = 0, speed = 0, errors = 0, locality = 0, prefix = 0;
};

enum class Placement { resident_gpu, resident_partial, resident_cpu, loading, gpu, partial_offload, cpu, unknown };
const char* to_string(Placement p);
// The node holds the model in memory, or is loading it now: no cold load to pay there.
bool holds_model(Placement p);

struct Candidate {
  std::size_t index = 0;  // into snapshot.nodes
  double score = 0;       // weighted mean of the parts, in [0,1]
  Scores parts;
  Placement placement = Placement::unknown;
  bool has_free_slot = true;
  uint64_t model_size = 0;  // bytes, as the node lists it
  // When full, worth waiting for rather than loading the model elsewhere: it holds the model,
  // or it is the node the request named.
  bool worth_waiting = false;
  uint64_t prefix_tokens = 0;  // of the prompt, found in the node's cache (estimated)
  // Full, but its cache saves more prompt evaluation than the wait for a slot there costs.
  bool prefix_worth_waiting = false;
  double prefix_saved_s = 0;  // ... how long it may be waited for and still be the quickest
};

struct Decision {
  std::string model;                    // normalised
  std::vector<std::size_t> ranked;      // indices into snapshot.nodes, best first
  std::vector<Candidate> candidates;    // the same order, with their scores
  std::string reason;                   // one line, for X-Hydra-Route-Reason and logs
  int error_status = 0;                 // when nothing can serve: 404 or 503
  std::string error;                    // ... and the message, in Ollama's words
  bool ok() const { return error_status == 0; }
};

// "2/4 slots busy (learned)": the node's requests in flight against its parallelism for `model`.
std::string slots_busy(const cluster::NodeView& node, const std::string& model);

// Memory a model needs on a node: its size plus KV-cache room for context x parallel slots.
uint64_t model_need(uint64_t size, int slots);

Decision route(const cluster::Snapshot& snapshot, const RouteRequest& request, Random& random,
               const Weights& weights = {});

// For requests that need no particular model (pull, create): routable nodes, least loaded first.
Decision route_any(const cluster::Snapshot& snapshot, Random& random);

}  // namespace hydra::routing
