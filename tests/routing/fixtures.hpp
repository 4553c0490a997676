#pragma once
// Building snapshots for routing tests.
#include "cluster/snapshot.hpp"

#include <chrono>
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
  bool slots_configured = true;  // false: learned (NodeCounters::capacity), `slots` unused
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
  n.slots_configured = s.slots_configured;
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

// Teaches an unconfigured node's learner that it runs `parallel` requests of `model` at once:
// a burst of parallel + 2 whose last two waited inside the node.
inline void teach_slots(const cluster::NodeView& n, const std::string& model, int parallel) {
  auto& l = n.live->capacity;
  const SteadyTime at{std::chrono::hours(1)};
  std::vector<int> places;
  for (int i = 0; i < parallel + 2; ++i) places.push_back(l.sent());
  for (int i = 0; i < parallel; ++i) l.observe(model, places[static_cast<std::size_t>(i)], l.first_byte(), 10, at);
  for (int i = parallel; i < parallel + 2; ++i) {
    l.finished(true);  // one ends, a queued one starts
    l.observe(model, places[static_cast<std::size_t>(i)], l.first_byte(), 3000, at);
  }
  for (int i = 0; i < parallel; ++i) l.finished(true);
}

inline cluster::Snapshot make_snapshot(const std::vector<NodeSpec>& specs) {
  cluster::Snapshot s;
  for (std::size_t i = 0; i < specs.size(); ++i) s.nodes.push_back(make_node(i, specs[i]));
  return s;
}

}  // namespace hydra::routing::test
