#pragma once
// The scorers of routing, each a plain function of one node (and the request) into [0,1].
#include "routing/route.hpp"

namespace hydra::routing {

// Where the model would run on this node, given what the node holds and has free.
Placement placement_of(const cluster::NodeView& node, const cluster::Holder& holder);
Placement placement_of(const cluster::NodeView& node, const std::string& model, uint64_t size);

double score_resident(Placement p);
double score_fits(Placement p);
// Free slots for `model` (its configured or learned parallelism there; the prior for no model).
double score_slots(const cluster::NodeView& node, std::string_view model = {});
double score_speed(const cluster::NodeView& node);
double score_errors(const cluster::NodeView& node);
double score_locality(const cluster::NodeView& node, bool prefer_local);

// Prefix affinity: the seconds until a long prompt's first token on the node, as far as the
// prompt decides them: the wait for a slot when the node is full (the requests ahead, `slots`
// at a time, each taking its usual time besides its prompt evaluation), the part of the
// prompt its cache lacks at its learned prompt speed (until measured: `unmeasured_tps`, the
// fastest measured among the candidates, so that a node not tried yet is not ruled out;
// kDefaultPrefillTps when none is measured), and the re-evaluation of the conversation it
// would evict from a slot (a conversation's next turn is likely). The prefix scorer is the
// best such time among the candidates over this one's.
inline constexpr double kDefaultPrefillTps = 1000;
inline constexpr double kEvictionShare = 1.0;
inline constexpr double kMinPromptSeconds = 0.05;  // below this, the difference is noise
struct PromptCost {
  double wait_s = 0;     // for a slot (0 when one is free)
  double prefill_s = 0;  // the uncached part
  double evict_s = 0;    // the share of another conversation's cache it evicts
  double total() const { return wait_s + prefill_s + evict_s; }
};
PromptCost prompt_cost(const cluster::NodeView& node, std::string_view model, uint64_t prompt_tokens,
                       uint64_t matched_tokens, uint64_t evicted_tokens, double unmeasured_tps = kDefaultPrefillTps);
double prefill_tps(const cluster::NodeView& node);  // learned; 0 until measured

// Free VRAM on the node for this model: what is free plus what the model already holds there.
uint64_t vram_available_for(const cluster::NodeView& node, const std::string& model);

}  // namespace hydra::routing
