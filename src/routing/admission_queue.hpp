#pragma once
// Who gets the next free slot. A bounded set of waiting requests ordered by effective
// priority (the request's 1-10 plus one level per `aging_step` waited, so low priority is
// delayed, never starved), then age. Pure: time is passed in.
#include "common/clock.hpp"
#include "routing/route.hpp"

#include <optional>
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
  std::vector<std::size_t> nodes;  // the candidates it may run on
};

class AdmissionQueue {
public:
  explicit AdmissionQueue(QueueSettings settings) : settings_(settings) {}

  bool push(Waiter w);  // false when the queue is full
  bool remove(uint64_t id);
  // The waiter that should get a slot just freed on `node`, if any can use that node.
  std::optional<uint64_t> pick_for(std::size_t node, SteadyTime now) const;
  // Whether someone already waits for one of these nodes (newcomers then queue behind).
  bool anyone_waiting_for(const std::vector<std::size_t>& nodes) const;
  double effective_priority(const Waiter& w, SteadyTime now) const;
  std::size_t size() const { return waiters_.size(); }
  const QueueSettings& settings() const { return settings_; }

private:
  QueueSettings settings_;
  std::vector<Waiter> waiters_;  // small: linear scans beat a heap that must support removal
};

// Which candidate of a decision to send a request to now, if any has a free slot.
// A full node where the model is resident is worth waiting for, unless waiting would cost
// more than a cold load on a free node (then the model is replicated there).
std::optional<std::size_t> pick_free_candidate(const cluster::Snapshot& snapshot, const Decision& decision,
                                               std::size_t queued);

}  // namespace hydra::routing
