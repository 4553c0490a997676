#include "routing/scorers.hpp"

#include <algorithm>

namespace hydra::routing {

uint64_t model_need(uint64_t size, int slots) {
  // KV cache: about size/50000 bytes per token of context (8 GB model: ~160 KB), for a
  // 2048-token context per slot. An estimate; the node's own numbers win once reported.
  return size + static_cast<uint64_t>(std::max(slots, 1)) * 2048 * (size / 50000);
}

uint64_t vram_available_for(const cluster::NodeView& node, const std::string& model) {
  uint64_t held = 0;
  if (const auto* r = node.resident_model(model)) held = r->size_vram;
  return node.resources.vram_free + held;
}

Placement placement_of(const cluster::NodeView& node, const cluster::Holder& h) {
  if (h.resident) {
    if (h.size_vram == 0) return Placement::resident_cpu;
    return h.size_vram >= h.size ? Placement::resident_gpu : Placement::resident_partial;
  }
  if (h.loading) return Placement::loading;
  const auto& res = node.resources;
  if (!res.known) return Placement::unknown;
  if (res.vram_total == 0) return Placement::cpu;
  // With nothing of Hydra's running there, the node's resident models are idle and Ollama
  // evicts them to make room: their VRAM counts as available.
  uint64_t evictable = 0;
  if (cluster::busy(node) == 0)
    for (const auto& r : node.resident) evictable += r.size_vram;
  return res.vram_free + evictable >= model_need(h.size, node.slots) ? Placement::gpu : Placement::partial_offload;
}

Placement placement_of(const cluster::NodeView& node, const std::string& model, uint64_t size) {
  cluster::Holder h{static_cast<uint32_t>(node.index), size, 0, false};
  if (const auto* r = node.resident_model(model)) {
    h.resident = true;
    h.size = r->size;
    h.size_vram = r->size_vram;
  }
  return placement_of(node, h);
}

double score_resident(Placement p) {
  switch (p) {
    case Placement::resident_gpu: return 1.0;
    case Placement::resident_partial: case Placement::resident_cpu: return 0.8;
    case Placement::loading: return 0.7;  // the load is already paid for
    default: return 0.0;
  }
}

double score_fits(Placement p) {
  switch (p) {
    case Placement::resident_gpu: case Placement::gpu: case Placement::loading: return 1.0;
    case Placement::resident_partial: return 0.6;
    case Placement::unknown: return 0.5;
    case Placement::partial_offload: return 0.3;
    case Placement::cpu: case Placement::resident_cpu: return 0.1;
  }
  return 0.0;
}

double score_slots(const cluster::NodeView& node, std::string_view model) {
  int in_flight = node.live ? cluster::busy(node) : 0;
  int slots = cluster::slots_for(node, model).slots;
  return std::clamp(1.0 - static_cast<double>(in_flight) / std::max(slots, 1), 0.0, 1.0);
}

double score_speed(const cluster::NodeView& node) {
  if (!node.live) return 0.5;
  double ttft = node.live->ttft_ms.load(std::memory_order_relaxed);
  double gap = node.live->chunk_gap_ms.load(std::memory_order_relaxed);
  // Normalised so that 500 ms to first token or 50 ms per token scores one half.
  double a = ttft > 0 ? 1.0 / (1.0 + ttft / 500.0) : 0.5;
  double b = gap > 0 ? 1.0 / (1.0 + gap / 50.0) : 0.5;
  return (a + b) / 2;
}

double score_errors(const cluster::NodeView& node) {
  double s = 1.0 - std::min(node.consecutive_failures, 3) / 3.0;
  return node.health == cluster::Health::suspect ? s * 0.5 : s;
}

double score_locality(const cluster::NodeView& node, bool prefer_local) {
  return prefer_local && node.local ? 1.0 : 0.0;
}

double prefill_tps(const cluster::NodeView& node) {
  return node.live ? node.live->prefill_tps.load(std::memory_order_relaxed) : 0.0;
}

PromptCost prompt_cost(const cluster::NodeView& node, std::string_view model, uint64_t prompt_tokens,
                       uint64_t matched_tokens, uint64_t evicted_tokens, double unmeasured_tps) {
  PromptCost c;
  const double learned = prefill_tps(node);
  const double rate = learned > 0 ? learned : (unmeasured_tps > 0 ? unmeasured_tps : kDefaultPrefillTps);
  c.prefill_s = static_cast<double>(prompt_tokens - std::min(prompt_tokens, matched_tokens)) / rate;
  c.evict_s = kEvictionShare * static_cast<double>(evicted_tokens) / rate;
  const int busy = node.live ? cluster::busy(node) : 0;
  const int slots = std::max(cluster::slots_for(node, model).slots, 1);
  if (busy >= slots) {
    // A request's time there besides its prompt (the requests running are mostly generating,
    // their prompts cached); the whole request time for nodes whose replies do not say.
    const double generation_ms = node.live ? node.live->generation_ms.load(std::memory_order_relaxed) : 0.0;
    const double duration_ms = node.live ? node.live->duration_ms.load(std::memory_order_relaxed) : 0.0;
    const double usual_s = (generation_ms > 0 ? generation_ms : duration_ms) / 1000.0;
    c.wait_s = (usual_s > 0 ? usual_s : 1.0) * static_cast<double>(busy - slots + 1) / slots;
  }
  return c;
}

}  // namespace hydra::routing
