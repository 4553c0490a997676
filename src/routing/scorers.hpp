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

// Prefix affinity. The seconds of prompt evaluation a match of `tokens` saves on the node (at
// its learned prompt speed, else kDefaultPrefillTps), against the expected wait for a slot
// there when it is full (the requests ahead, `slots` at a time, each taking its usual time).
inline constexpr double kDefaultPrefillTps = 1000;
// No match: a node with a slot that caches nothing takes the prompt without evicting another
// conversation's cache (which would cost that conversation its next turn's saving): this much,
// plus up to kEmptySlotsScore more as more of its slots are empty.
inline constexpr double kEmptySlotScore = 0.3;
inline constexpr double kEmptySlotsScore = 0.2;
struct PrefixValue {
  double saved_s = 0;
  double wait_s = 0;
  double score = 0;  // in [0,1]: saved/(saved + 0.5 s), shrunk by the wait; 0 when the wait costs more
};
PrefixValue score_prefix(const cluster::NodeView& node, std::string_view model, uint64_t tokens);

// Free VRAM on the node for this model: what is free plus what the model already holds there.
uint64_t vram_available_for(const cluster::NodeView& node, const std::string& model);

}  // namespace hydra::routing
