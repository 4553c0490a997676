#include "cluster/snapshot.hpp"

#include <algorithm>

namespace hydra::cluster {

const char* to_string(Health h) {
  switch (h) {
    case Health::unknown: return "unknown";
    case Health::healthy: return "healthy";
    case Health::suspect: return "suspect";
    case Health::ejected: return "ejected";
  }
  return "unknown";
}

const char* to_string(NodeSource s) {
  switch (s) {
    case NodeSource::configured: return "configured";
    case NodeSource::registered: return "registered";
    case NodeSource::discovered: return "discovered";
  }
  return "configured";
}

const char* to_string(NodeKind k) { return k == NodeKind::llama_server ? "llama-server" : "ollama"; }

const char* to_string(RpcServerView::State s) {
  switch (s) {
    case RpcServerView::State::unknown: return "unknown";
    case RpcServerView::State::ready: return "ready";
    case RpcServerView::State::busy: return "busy";
    case RpcServerView::State::down: return "down";
    case RpcServerView::State::incompatible: return "incompatible";
  }
  return "unknown";
}

uint64_t RpcServerView::free_bytes() const {
  uint64_t sum = 0;
  for (const auto& d : devices) sum += d.free;
  return sum;
}

const char* to_string(Resources::Source s) {
  switch (s) {
    case Resources::Source::estimated: return "estimated";
    case Resources::Source::configured: return "configured";
    case Resources::Source::reported: return "reported";
  }
  return "estimated";
}

bool claim_slot(const NodeView& node, std::string_view model) {
  const int slots = slots_for(node, model).slots;
  NodeCounters& c = *node.live;
  int current = c.in_flight.load(std::memory_order_relaxed);
  do {
    if (current + c.elsewhere.load(std::memory_order_relaxed) >= slots) return false;
  } while (!c.in_flight.compare_exchange_weak(current, current + 1, std::memory_order_seq_cst,
                                              std::memory_order_relaxed));
  return true;
}

SlotsEstimate slots_for(const NodeView& node, std::string_view model) {
  if (node.slots_configured || !node.live) return {node.slots, SlotsSource::configured};
  return node.live->capacity.slots(model);
}

SlotsEstimate node_slots(const NodeView& node) {
  if (node.slots_configured || !node.live) return {node.slots, SlotsSource::configured};
  const ModelCapacity* most = nullptr;
  const auto models = node.live->capacity.models();  // a copy: `most` points into it
  for (const auto& [model, m] : models)
    if (m.learned && (!most || m.samples > most->samples)) most = &m;
  if (!most) return node.live->capacity.slots({});
  return {most->slots, SlotsSource::learned};
}

const std::vector<Holder>& Snapshot::holders_of(const std::string& model) const {
  static const std::vector<Holder> none;
  auto it = holders.find(model);
  return it == holders.end() ? none : it->second;
}

const ModelEntry* NodeView::model(std::string_view name) const {
  for (const auto& m : models)
    if (m.name == name) return &m;
  return nullptr;
}

const ResidentEntry* NodeView::resident_model(std::string_view name) const {
  for (const auto& m : resident)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace hydra::cluster
