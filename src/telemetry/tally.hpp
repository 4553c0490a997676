#pragma once
// What one worker thread recorded of the requests it served (a model request lives on one
// worker: http/threads.hpp), kept on that thread and handed to the control thread in batches,
// where Telemetry::fold adds it to the gateway's figures: the counters (metrics, request stats,
// the traffic window) merge, the log entries take their places in the logs. Recording on the
// worker costs no hand-over per request; the views (/metrics, /stats, /requests, ...) and the
// traffic window's tick have every worker hand its tally over first (api::settle_workers).
#include "telemetry/metrics.hpp"
#include "telemetry/request_log.hpp"
#include "telemetry/request_stats.hpp"
#include "telemetry/routing_log.hpp"
#include "telemetry/traffic.hpp"

#include <memory>
#include <vector>

namespace hydra::telemetry {

struct Tally {
  // Log entries a worker holds before it hands them over unasked: the dashboard's live stream
  // lags by at most this many requests (or by a tick of the traffic window).
  static constexpr std::size_t kLogBatch = 64;

  // The log entries: handed over on their own (small), the counters only when asked (a
  // Traffic is some 100 KB of histograms).
  struct Logs {
    std::vector<std::shared_ptr<RoutingEvent>> routing;  // in the order they were decided
    std::vector<RequestRecord> records;                  // in the order the requests ended
  };

  Metrics metrics;
  RequestStats requests;
  Traffic traffic;
  Logs logs;

  bool logs_due() const { return logs.routing.size() >= kLogBatch || logs.records.size() >= kLogBatch; }
};

}  // namespace hydra::telemetry
