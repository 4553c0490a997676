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

// Free VRAM on the node for this model: what is free plus what the model already holds there.
uint64_t vram_available_for(const cluster::NodeView& node, const std::string& model);

}  // namespace hydra::routing
