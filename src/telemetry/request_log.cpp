#include "telemetry/request_log.hpp"

#include "common/timefmt.hpp"

#include <algorithm>
#include <utility>

namespace hydra::telemetry {

namespace json = boost::json;

namespace {
json::value or_null(std::string_view s) { return s.empty() ? json::value(nullptr) : json::value(s); }
json::value ms_or_null(double ms) { return ms < 0 ? json::value(nullptr) : json::value(ms); }
}  // namespace

json::object to_json(const RequestRecord& r) {
  json::object o;
  o["seq"] = r.seq;
  o["at"] = rfc3339(r.at);
  o["request_id"] = or_null(r.request_id.view());
  o["key"] = r.key;
  o["client"] = r.client;
  o["method"] = r.method;
  o["endpoint"] = r.endpoint;
  o["model"] = r.model;
  o["node"] = or_null(r.node);
  o["status"] = r.status;
  o["outcome"] = r.outcome;
  o["attempts"] = r.attempts;
  o["queued"] = r.queued;
  o["queue_ms"] = r.queue_ms;
  o["ttft_ms"] = ms_or_null(r.ttft_ms);
  o["duration_ms"] = r.duration_ms;
  o["tokens_in"] = r.tokens_in;
  o["tokens_out"] = r.tokens_out;
  o["cache"] = r.cache ? json::value(*r.cache) : json::value(nullptr);
  o["routing"] = r.routing ? json::value(to_json(*r.routing)) : json::value(nullptr);
  return o;
}

bool RequestFilter::matches(const RequestRecord& r) const {
  return r.seq > after && (model.empty() || r.model == model) && (node.empty() || r.node == node) &&
         (outcome.empty() || r.outcome == outcome);
}

uint64_t RequestLog::record(RequestRecord&& r) {
  if (r.seq == 0) r.seq = next_seq_;
  next_seq_ = std::max(next_seq_, r.seq + 1);
  std::size_t at;  // where the new record is, counted from the oldest
  if (ring_.size() < capacity_) {
    ring_.push_back(std::move(r));  // filling: head_ stays 0
    at = ring_.size() - 1;
  } else {
    ring_[head_] = std::move(r);
    head_ = (head_ + 1) % capacity_;
    at = ring_.size() - 1;
  }
  // Back past the newer ones recorded before it (a worker's batch arriving late).
  auto slot = [this](std::size_t i) -> RequestRecord& { return ring_[(head_ + i) % ring_.size()]; };
  for (; at > 0 && slot(at - 1).seq > slot(at).seq; --at) std::swap(slot(at - 1), slot(at));
  for (const auto& l : listeners_) l(slot(at));
  return slot(at).seq;
}

std::vector<const RequestRecord*> RequestLog::recent(const RequestFilter& filter) const {
  std::vector<const RequestRecord*> out;
  for (std::size_t i = 0; i < ring_.size() && out.size() < filter.limit; ++i) {
    const RequestRecord& r = ring_[(head_ + ring_.size() - 1 - i) % ring_.size()];
    if (r.seq <= filter.after) break;
    if (filter.matches(r)) out.push_back(&r);
  }
  return out;
}

}  // namespace hydra::telemetry
