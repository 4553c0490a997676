#pragma once
// Everything the gateway counts and tells: owned by `hydra serve`, shared by the handlers
// through api::Gateway. Single-threaded: the gateway's thread.
#include "telemetry/access_log.hpp"
#include "telemetry/event_bus.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/request_log.hpp"
#include "telemetry/request_stats.hpp"
#include "telemetry/routing_log.hpp"
#include "telemetry/traffic.hpp"

namespace hydra::telemetry {

struct Telemetry {
  RoutingLog routing;     // recent decisions (GET /routing, `routing` events)
  RequestStats requests;  // by route and status (GET /stats)
  RequestLog request_log; // the recent model requests, each with its trace (GET /requests)
  Metrics metrics;        // GET /metrics
  Traffic traffic;        // the dashboard's live charts, the last 5 minutes (GET /traffic)
  EventBus events;        // GET /events
  AccessLog access;       // log.access: one line per request (written by any thread)
};

}  // namespace hydra::telemetry
