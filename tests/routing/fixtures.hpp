#pragma once
// Building snapshots for routing tests.
#include "cluster/snapshot.hpp"

#include <string>
#include <vector>

namespace hydra::routing::test {

constexpr uint64_t GB = 1'000'000'000ull;

struct NodeSpec {
  cluster::Health health = cluster::Health::healthy;
  std::vector<std::pair<std::string, uint64_t>> models;    // name, size
  std::vector<std::pair<std::string, uint64_t>> resident;  // name, size_vram (size from models)
  int in_flight = 0;
  int slots = 4;
  double vram_gb = -1;  // < 0: unknown resources
  double vram_free_gb = -1;
  bool local = false;
};

inline cluster::NodeView make_node(std::size_t index, const NodeSpec& s) {
  cluster::NodeView n;
  n.index = index;
  n.id = "n" + std::to_string(index);
  n.url = "http://" + n.id;
  n.health = s.health;
  n.slots = s.slots;
  n.local = s.local;
  for (auto& [name, size] : s.models) n.models.push_back({name, size, {}});
  for (auto& [name, vram] : s.resident) {
    uint64_t size = vram;
    for (auto& [m, sz] : s.models)
      if (m == name) size = sz;
    n.resident.push_back({name, size, vram, {}});
  }
  if (s.vram_gb >= 0) {
    n.resources.known = true;
    n.resources.source = cluster::Resources::Source::configured;
    n.resources.vram_total = static_cast<uint64_t>(s.vram_gb * GB);
    n.resources.vram_free = static_cast<uint64_t>((s.vram_free_gb >= 0 ? s.vram_free_gb : s.vram_gb) * GB);
  }
  n.live->in_flight = s.in_flight;
  return n;
}

inline cluster::Snapshot make_snapshot(const std::vector<NodeSpec>& specs) {
  cluster::Snapshot s;
  for (std::size_t i = 0; i < specs.size(); ++i) s.nodes.push_back(make_node(i, specs[i]));
  return s;
}

}  // namespace hydra::routing::test
