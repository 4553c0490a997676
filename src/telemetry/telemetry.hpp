#pragma once
// Everything the gateway counts and tells: owned by `hydra serve`, shared by the handlers
// through api::Gateway. The control thread's (http/threads.hpp); a worker thread records into
// its own Tally (telemetry/tally.hpp), which the control thread folds in (fold()).
#include "telemetry/access_log.hpp"
#include "telemetry/event_bus.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/request_log.hpp"
#include "telemetry/request_stats.hpp"
#include "telemetry/routing_log.hpp"
#include "telemetry/tally.hpp"
#include "telemetry/traffic.hpp"

#include <atomic>

namespace hydra::telemetry {

struct Telemetry {
  RoutingLog routing;     // recent decisions (GET /routing, `routing` events)
  RequestStats requests;  // by route and status (GET /stats)
  RequestLog request_log; // the recent model requests, each with its trace (GET /requests)
  Metrics metrics;        // GET /metrics
  Traffic traffic;        // the dashboard's live charts, the last 5 minutes (GET /traffic)
  EventBus events;        // GET /events
  AccessLog access;       // log.access: one line per request (written by any thread)
  // Each worker thread's tally, by its thread index (none for the control thread, index 0).
  // Made at start-up, before the workers serve; each touched only by its own thread.
  std::vector<std::unique_ptr<Tally>> tallies;
  // The logs' numbers, given as an entry is recorded on whichever thread: the order requests
  // were decided and ended in, whatever order the threads' tallies are folded in.
  std::atomic<uint64_t> routing_seq{1}, request_seq{1};

  // Control thread: adds a worker's tally (its logs' entries by their seq, listeners told), or
  // only its log entries.
  void fold(Tally& part);
  void fold(Tally::Logs& part);
};

// Where the thread serving a request records it: the control thread into the telemetry itself,
// a worker into its tally.
class Recorder {
public:
  Recorder(Telemetry& t, Tally* tally) : t_(t), tally_(tally) {}
  Metrics& metrics() { return tally_ ? tally_->metrics : t_.metrics; }
  RequestStats& requests() { return tally_ ? tally_->requests : t_.requests; }
  Traffic& traffic() { return tally_ ? tally_->traffic : t_.traffic; }
  // The decision, for the routing log (given its seq there); the request log's record points at it.
  std::shared_ptr<const RoutingEvent> routed(std::shared_ptr<RoutingEvent> e);
  void finished(RequestRecord&& r);
  Tally* tally() const { return tally_; }

private:
  Telemetry& t_;
  Tally* tally_;
};

}  // namespace hydra::telemetry
