#pragma once
// Who gets the next free slot. A bounded set of waiting requests: for a slot freed on a node,
// those holding their model warm there come first, then those for whom a cold load there is
// worth it by now; within each, by effective priority (the request's 1-10 plus one level per
// `aging_step` waited, so low priority is delayed, never starved), then age. Also: whether a
// newcomer takes a free slot now or waits (pick_free_candidate). Pure: time is passed in.
#include "common/clock.hpp"
#include "routing/route.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hydra::routing {

struct QueueSettings {
  std::size_t max_waiting = 256;
  Nanos max_wait = std::chrono::seconds(120);
  Nanos aging_step = std::chrono::seconds(10);
};

struct Waiter {
  uint64_t id = 0;
  int priority = 5;
  SteadyTime enqueued{};
  std::vector<std::size_t> warm;  // candidates worth waiting for (Candidate::worth_waiting)
  std::vector<std::size_t> cold;  // candidates that would have to load the model first
  Nanos cold_after{0};            // waited this long, a cold load is worth it (no warm candidate: 0)
  std::string model;              // normalised name and size, to judge a cold node when a slot frees
  uint64_t model_size = 0;
};

// Whether `node` may load the waiter's model now: it fits beside what the node is running,
// so nothing in use is evicted (or no node holds the model, so any place is as good).
using CanLoad = std::function<bool(const Waiter&, std::size_t node)>;

// Builds the waiter of a request whose decision found no free slot.
// With a snapshot, `cold_after` is the quickest load seen on a cold candidate (else size-based).
Waiter make_waiter(const Decision& decision, const std::string& model, int priority, SteadyTime now,
                   const cluster::Snapshot* snapshot = nullptr);

class AdmissionQueue {
public:
  explicit AdmissionQueue(QueueSettings settings) : settings_(settings) {}

  bool push(Waiter w);  // false when the queue is full
  bool remove(uint64_t id);
  const Waiter* find(uint64_t id) const;  // nullptr when not queued
  // The waiter that should get a slot just freed on `node`, if any can use that node: first
  // those that hold the model warm there, then those for whom a cold load there is now worth it
  // (waited `cold_after`, and `can_load`); by effective priority, then age.
  std::optional<uint64_t> pick_for(std::size_t node, SteadyTime now, const CanLoad& can_load) const;
  // How many wait for the model warm on `node` (a newcomer's wait there grows with them).
  std::size_t warm_waiting(std::size_t node) const;
  double effective_priority(const Waiter& w, SteadyTime now) const;
  std::size_t size() const { return waiters_.size(); }
  const QueueSettings& settings() const { return settings_; }

private:
  QueueSettings settings_;
  std::vector<Waiter> waiters_;  // small: linear scans beat a heap that must support removal
};

// Seconds a cold load of a model of this size is expected to take.
double load_seconds(uint64_t size);

// Whether a cold load in this placement leaves the node's models in use alone: it fits in free
// VRAM (or the node is CPU-only, or we do not know its memory).
bool loads_without_eviction(Placement p);

// Which candidate of a decision to send a request to now, if any has a free slot (below its
// configured or learned parallelism for the model, cluster::slots_for).
// A node worth waiting for (it holds the model, or the request named it) comes first. When all
// such nodes are full, the first of them is waited for, unless the expected wait (with `waiting` requests ahead) costs more than a cold
// load elsewhere (then the model is replicated there). A cold load goes only where it evicts
// nothing in use, unless no node holds the model at all.
// When it sends the request to a cold node although a warm one exists, `why` says why.
std::optional<std::size_t> pick_free_candidate(const cluster::Snapshot& snapshot, const Decision& decision,
                                               std::size_t waiting, std::string* why = nullptr);

// Seconds a cold load of `model` on `node` is expected to take: what loads there took (the
// node's CapacityLearner), else the size-based estimate.
double expected_load_seconds(const cluster::NodeView& node, const std::string& model, uint64_t size);

}  // namespace hydra::routing
