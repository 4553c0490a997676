// Publishing a snapshot: copy-on-write per node, and the model -> holders index built anew or,
// when few nodes changed, patched from the snapshot before.
#include "cluster/snapshot.hpp"

#include <algorithm>

namespace hydra::cluster {

namespace {

bool warm(const Holder& h) { return h.resident || h.loading; }

// Calls f(model name, holder) for each entry a routable node has in the index.
template <class F>
void for_each_holding(const NodeView& n, F&& f) {
  for (const auto& m : n.models) {
    const ResidentEntry* r = n.resident_model(m.name);
    const bool loading = !r && std::find(n.loading.begin(), n.loading.end(), m.name) != n.loading.end();
    f(m.name, Holder{static_cast<uint32_t>(n.index), m.size, r ? r->size_vram : 0, r != nullptr, loading});
  }
}

bool by_node(const Holder& a, const Holder& b) { return a.node < b.node; }

// A model's holders are the warm ones (resident or loading) then the others, each part in node
// order, as build_index() leaves them.
void erase_node(std::vector<Holder>& list, uint32_t node) {
  const auto warm_count = std::partition_point(list.begin(), list.end(), warm) - list.begin();
  const Holder key{node};
  auto [cold_first, cold_last] = std::equal_range(list.begin() + warm_count, list.end(), key, by_node);
  list.erase(cold_first, cold_last);
  auto [warm_first, warm_last] = std::equal_range(list.begin(), list.begin() + warm_count, key, by_node);
  list.erase(warm_first, warm_last);
}

void insert_holder(std::vector<Holder>& list, const Holder& h) {
  const auto boundary = std::partition_point(list.begin(), list.end(), warm);
  auto at = warm(h) ? std::upper_bound(list.begin(), boundary, h, by_node)
                    : std::upper_bound(boundary, list.end(), h, by_node);
  list.insert(at, h);
}

// The index of `snap` from the index of `previous`: the entries of the nodes in `changed`
// (indices) taken out as they were there and put back as they are now.
void patch_index(Snapshot& snap, const Snapshot& previous, const std::vector<std::size_t>& changed) {
  snap.holders = previous.holders;
  snap.routable_count = previous.routable_count;
  for (std::size_t i : changed) {
    if (i < previous.nodes.size() && previous.nodes[i].routable()) {
      --snap.routable_count;
      for (const auto& m : previous.nodes[i].models) {
        auto it = snap.holders.find(m.name);
        if (it == snap.holders.end()) continue;
        erase_node(it->second, static_cast<uint32_t>(previous.nodes[i].index));
        if (it->second.empty()) snap.holders.erase(it);
      }
    }
  }
  for (std::size_t i : changed) {
    if (i >= snap.nodes.size() || !snap.nodes[i].routable()) continue;
    ++snap.routable_count;
    for_each_holding(snap.nodes[i], [&](const std::string& model, const Holder& h) { insert_holder(snap.holders[model], h); });
  }
  snap.indexed = true;
}

}  // namespace

void Snapshot::build_index() {
  holders.clear();
  routable_count = 0;
  for (const auto& n : nodes) {
    if (!n.routable()) continue;
    ++routable_count;
    for_each_holding(n, [&](const std::string& model, const Holder& h) { holders[model].push_back(h); });
  }
  for (auto& [name, list] : holders) std::stable_partition(list.begin(), list.end(), warm);
  indexed = true;
}

NodeView& NodeList::edit(std::size_t i) {
  auto copy = std::make_shared<NodeView>(*items_[i]);
  NodeView& mine = *copy;
  items_[i] = std::move(copy);
  return mine;
}

std::shared_ptr<Snapshot> next_snapshot(const Snapshot* previous, const std::vector<NodeView>& nodes,
                                        const std::vector<bool>& changed, std::vector<RpcServerView> rpc_servers,
                                        uint64_t generation) {
  auto snap = std::make_shared<Snapshot>();
  snap->generation = generation;
  snap->rpc_servers = std::move(rpc_servers);
  snap->nodes.reserve(nodes.size());
  const std::size_t kept = previous ? std::min(previous->nodes.size(), nodes.size()) : 0;
  std::vector<std::size_t> copied;  // the nodes not shared with `previous`, and those it had beyond the end
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (i < kept && i < changed.size() && !changed[i]) {
      snap->nodes.push_back(previous->nodes.ptr(i));
    } else {
      snap->nodes.push_back(nodes[i]);
      copied.push_back(i);
    }
  }
  for (std::size_t i = nodes.size(); previous && i < previous->nodes.size(); ++i) copied.push_back(i);
  // Patching costs about a model list's worth of holders per changed node; building anew, a
  // hash look-up per holder in the fleet: patch while few nodes changed (about 1 in 50).
  if (previous && previous->indexed && copied.size() * 50 <= nodes.size())
    patch_index(*snap, *previous, copied);
  else
    snap->build_index();
  return snap;
}

}  // namespace hydra::cluster
