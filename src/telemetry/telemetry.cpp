#include "telemetry/telemetry.hpp"

namespace hydra::telemetry {

void Telemetry::fold(Tally& part) {
  metrics.fold(part.metrics);
  requests.fold(part.requests);
  traffic.fold(part.traffic);
  fold(part.logs);
}

void Telemetry::fold(Tally::Logs& part) {
  for (auto& e : part.routing) routing.record(std::move(e));
  for (auto& r : part.records) request_log.record(std::move(r));
}

std::shared_ptr<const RoutingEvent> Recorder::routed(std::shared_ptr<RoutingEvent> e) {
  e->seq = t_.routing_seq.fetch_add(1, std::memory_order_relaxed);
  if (tally_) tally_->logs.routing.push_back(e);
  else t_.routing.record(e);
  return e;
}

void Recorder::finished(RequestRecord&& r) {
  r.seq = t_.request_seq.fetch_add(1, std::memory_order_relaxed);
  if (tally_) tally_->logs.records.push_back(std::move(r));
  else t_.request_log.record(std::move(r));
}

}  // namespace hydra::telemetry
