#pragma once
// The cluster as routing sees it: an immutable snapshot of every node's health and models,
// plus live per-node counters (in-flight requests) that the gateway updates atomically.
// Plain data: no sockets, no Asio, so routing stays pure.
#include "common/clock.hpp"

#include <atomic>
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hydra::cluster {

enum class Health { unknown, healthy, suspect, ejected };
const char* to_string(Health h);

// Counters shared by every snapshot of one node; owned jointly, updated lock-free.
struct NodeCounters {
  std::atomic<int> in_flight{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failures{0};
};

struct ModelEntry {
  std::string name;          // normalised ("x:latest")
  uint64_t size = 0;
  boost::json::object raw;   // the node's /api/tags entry, passed on untouched
};

struct ResidentEntry {
  std::string name;
  uint64_t size = 0;
  uint64_t size_vram = 0;
  boost::json::object raw;   // the node's /api/ps entry
};

struct NodeView {
  std::size_t index = 0;     // stable for the life of the gateway
  std::string id;            // "host:port"
  std::string url;           // "http://host:port"
  std::string host_header;   // what to send as Host (Ollama checks it on loopback binds)
  std::string ip;            // resolved address the gateway connects to
  uint16_t port = 0;
  Health health = Health::unknown;
  std::string version;
  std::string last_error;
  int consecutive_failures = 0;
  int ejections = 0;
  SteadyTime ejected_until{};
  int slots = 4;             // parallel generations the node runs (OLLAMA_NUM_PARALLEL)
  std::vector<ModelEntry> models;
  std::vector<ResidentEntry> resident;
  std::shared_ptr<NodeCounters> live = std::make_shared<NodeCounters>();

  bool routable() const { return health == Health::healthy || health == Health::suspect; }
  const ModelEntry* model(std::string_view normalised_name) const;
  const ResidentEntry* resident_model(std::string_view normalised_name) const;
};

struct Snapshot {
  uint64_t generation = 0;
  std::vector<NodeView> nodes;
};

}  // namespace hydra::cluster
