#pragma once
// Reading what a llama.cpp llama-server reports (/props, /slots, /v1/models) into snapshot
// entries, so that routing sees it as a node with one model, always resident. Pure functions.
// The shapes are in docs/LLAMACPP.md section 3.
#include "cluster/snapshot.hpp"

#include <optional>
#include <string_view>

namespace hydra::cluster {

struct LlamaProps {
  int total_slots = 1;     // --parallel
  int n_ctx = 0;           // a slot's context (0: not said)
  std::string model_path;  // -m (newer servers only)
};
// Nullopt unless the body is an object with a positive `total_slots`: what tells a llama-server
// from anything else that answers /props.
std::optional<LlamaProps> parse_llama_props(std::string_view body);

// Slots processing a request, from /slots (`is_processing`, or the old `state` != 0); -1 when
// the body is not a slot list (e.g. --no-slots answers 501).
int parse_llama_busy(std::string_view body);

// The model it serves (/v1/models): one entry per name a client may use (its id and aliases),
// each as an Ollama /api/tags entry with "node_kind": "llama-server". Nullopt when unreadable.
std::optional<std::vector<ModelEntry>> parse_llama_models(std::string_view body);

// The same model as resident entries (/api/ps shape): a llama-server holds its model for life.
std::vector<ResidentEntry> llama_resident(const std::vector<ModelEntry>& models);

}  // namespace hydra::cluster
