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
  events_.push_back(std::move(event));
  if (events_.size() > capacity_) events_.pop_front();
  for (const auto& l : listeners_) l(*events_.back());
  return events_.back()->seq;
}

RoutingLog::Entry RoutingLog::find(uint64_t seq) const {
  for (auto it = events_.rbegin(); it != events_.rend(); ++it)
    if ((*it)->seq == seq) return *it;
  return nullptr;
}

std::vector<RoutingLog::Entry> RoutingLog::recent(std::size_t limit, uint64_t after) const {
  std::vector<Entry> out;
  for (const Entry& e : events_)
    if (e->seq > after) out.push_back(e);
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a->seq < b->seq; });
  if (out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
  return out;
}

}  // namespace hydra::telemetry
