#pragma once
// The recent routing decisions, newest last, for GET /routing, /stats and the dashboard: which
// request went to which node, why, and what else was considered. Bounded ring; listeners are
// told of each new entry (the dashboard's live stream). Single-threaded: the gateway's thread.
#include "common/short_text.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hydra::telemetry {

struct RoutedCandidate {
  std::string node_id;
  double score = 0;
  const char* placement = "";  // routing::to_string(Placement): a literal, not copied per request
  bool free_slot = true;
};

// A stream that went on on another node after its node broke off.
struct ContinuedStep {
  std::string from, to;
  uint64_t after_tokens = 0;
};

struct RoutingEvent {
  uint64_t seq = 0;  // increasing with the order decisions were recorded in; 0: the log numbers it
  std::chrono::system_clock::time_point at;
  std::string endpoint;        // "/api/chat", "/v1/chat/completions", "/generate", "orchestrate", ...
  RequestIdText request_id;    // X-Request-Id; empty for the gateway's own calls
  std::string model;
  std::string requested_node;  // the request's explicit node choice, if any
  std::string node_id;         // the node that served (abandoned: was serving); empty when none did
  std::string outcome;         // served | failed | rejected | unroutable | abandoned (as in metrics)
  std::string reason;
  std::string error;           // when nothing served: why
  int priority = 5;
  int attempts = 0;            // nodes tried (more than one: a failover happened)
  bool queued = false;         // waited in the admission queue
  std::vector<ContinuedStep> continued;  // mid-stream continuations, in order
  // A decision keeps at most 8 (routing's kKeep), 9 with a requested node rotated in: inline,
  // so recording an event allocates once.
  boost::container::small_vector<RoutedCandidate, 8> candidates;
};

boost::json::object to_json(const RoutingEvent& e);

class RoutingLog {
public:
  explicit RoutingLog(std::size_t capacity = 500) : capacity_(capacity) {}

  // Entries are shared, not copied: the request log's record of a request points at its entry.
  // An entry may be numbered already (seq, by Recorder on the thread that decided): a worker's
  // arrive in batches, after others' with higher numbers; recent() orders them by seq.
  using Entry = std::shared_ptr<const RoutingEvent>;
  uint64_t record(RoutingEvent event);
  uint64_t record(std::shared_ptr<RoutingEvent> event);  // kept as it is: no copy
  // The `limit` newest entries with seq > `after`, oldest first (by seq).
  std::vector<Entry> recent(std::size_t limit, uint64_t after = 0) const;
  // The entry with this seq while the log still holds it, else null.
  Entry find(uint64_t seq) const;

  struct Totals {
    uint64_t decisions = 0, unserved = 0, failovers = 0, queued = 0, abandoned = 0;
    std::map<std::string, uint64_t> by_node;
  };
  const Totals& totals() const { return totals_; }

  using Listener = std::function<void(const RoutingEvent&)>;
  void listen(Listener listener) { listeners_.push_back(std::move(listener)); }

private:
  std::size_t capacity_;
  std::deque<Entry> events_;
  uint64_t next_seq_ = 1;
  Totals totals_;
  std::vector<Listener> listeners_;
};

}  // namespace hydra::telemetry
