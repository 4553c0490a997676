#include "telemetry/routing_log.hpp"

#include "common/timefmt.hpp"

#include <algorithm>

namespace hydra::telemetry {

namespace json = boost::json;

json::object to_json(const RoutingEvent& e) {
  json::object o;
  o["seq"] = e.seq;
  o["at"] = rfc3339(e.at);
  o["endpoint"] = e.endpoint;
  if (!e.request_id.empty()) o["request_id"] = e.request_id.view();
  o["model"] = e.model;
  o["requested_node"] = e.requested_node.empty() ? json::value(nullptr) : json::value(e.requested_node);
  o["selected_node"] = e.node_id.empty() ? json::value(nullptr) : json::value(e.node_id);
  o["outcome"] = e.outcome;
  o["reason"] = e.reason;
  if (!e.error.empty()) o["error"] = e.error;
  o["priority"] = e.priority;
  o["attempts"] = e.attempts;
  o["queued"] = e.queued;
  if (!e.continued.empty()) {
    json::array steps;
    for (const auto& c : e.continued)
      steps.push_back(json::object{{"from", c.from}, {"to", c.to}, {"after_tokens", c.after_tokens}});
    o["continued"] = std::move(steps);
  }
  json::array candidates;
  for (const auto& c : e.candidates) {
    json::object cj;
    cj["node_id"] = c.node_id;
    cj["score"] = c.score;
    cj["placement"] = c.placement;
    cj["free_slot"] = c.free_slot;
    candidates.push_back(std::move(cj));
  }
  o["candidates"] = std::move(candidates);
  return o;
}

uint64_t RoutingLog::record(RoutingEvent event) { return record(std::make_shared<RoutingEvent>(std::move(event))); }

uint64_t RoutingLog::record(std::shared_ptr<RoutingEvent> event) {
  if (event->seq == 0) event->seq = next_seq_;
  next_seq_ = std::max(next_seq_, event->seq + 1);
  ++totals_.decisions;
  if (event->node_id.empty()) ++totals_.unserved;
  else ++totals_.by_node[event->node_id];
  if (event->attempts > 1) ++totals_.failovers;
  if (event->queued) ++totals_.queued;
  if (event->outcome == "abandoned") ++totals_.abandoned;
  const Entry added = event;
  events_.push_back(std::move(event));
  for (auto at = events_.end() - 1; at != events_.begin() && (*(at - 1))->seq > (*at)->seq; --at) std::iter_swap(at - 1, at);
  if (events_.size() > capacity_) events_.pop_front();
  for (const auto& l : listeners_) l(*added);
  return added->seq;
}

RoutingLog::Entry RoutingLog::find(uint64_t seq) const {
  auto at = std::lower_bound(events_.begin(), events_.end(), seq, [](const Entry& e, uint64_t s) { return e->seq < s; });
  return at != events_.end() && (*at)->seq == seq ? *at : nullptr;
}

std::vector<RoutingLog::Entry> RoutingLog::recent(std::size_t limit, uint64_t after) const {
  std::vector<Entry> out;
  for (auto it = events_.rbegin(); it != events_.rend() && out.size() < limit && (*it)->seq > after; ++it)
    out.push_back(*it);
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace hydra::telemetry
