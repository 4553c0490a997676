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

const char* to_string(Resources::Source s) {
  switch (s) {
    case Resources::Source::estimated: return "estimated";
    case Resources::Source::configured: return "configured";
    case Resources::Source::reported: return "reported";
  }
  return "estimated";
}

SlotsEstimate slots_for(const NodeView& node, std::string_view model) {
  if (node.slots_configured || !node.live) return {node.slots, SlotsSource::configured};
  return node.live->capacity.slots(model);
}

SlotsEstimate node_slots(const NodeView& node) {
  if (node.slots_configured || !node.live) return {node.slots, SlotsSource::configured};
  const ModelCapacity* most = nullptr;
  for (const auto& [model, m] : node.live->capacity.models())
    if (m.learned && (!most || m.samples > most->samples)) most = &m;
  if (!most) return node.live->capacity.slots({});
  return {most->slots, SlotsSource::learned};
}

void Snapshot::build_index() {
  holders.clear();
  routable_count = 0;
  for (const auto& n : nodes) {
    if (!n.routable()) continue;
    ++routable_count;
    for (const auto& m : n.models) {
      const ResidentEntry* r = n.resident_model(m.name);
      bool loading = !r && std::find(n.loading.begin(), n.loading.end(), m.name) != n.loading.end();
      holders[m.name].push_back({static_cast<uint32_t>(n.index), m.size, r ? r->size_vram : 0, r != nullptr, loading});
    }
  }
  for (auto& [name, list] : holders)
    std::stable_partition(list.begin(), list.end(), [](const Holder& h) { return h.resident || h.loading; });
  indexed = true;
}

NodeView& NodeList::edit(std::size_t i) {
  auto copy = std::make_shared<NodeView>(*items_[i]);
  NodeView& mine = *copy;
  items_[i] = std::move(copy);
  return mine;
}

std::shared_ptr<Snapshot> next_snapshot(const Snapshot* previous, const std::vector<NodeView>& nodes,
                                        const std::vector<bool>& changed, std::vector<std::string> rpc_servers,
                                        uint64_t generation) {
  auto snap = std::make_shared<Snapshot>();
  snap->generation = generation;
  snap->rpc_servers = std::move(rpc_servers);
  snap->nodes.reserve(nodes.size());
  const std::size_t kept = previous ? std::min(previous->nodes.size(), nodes.size()) : 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (i < kept && i < changed.size() && !changed[i])
      snap->nodes.push_back(previous->nodes.ptr(i));
    else
      snap->nodes.push_back(nodes[i]);
  }
  snap->build_index();
  return snap;
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
