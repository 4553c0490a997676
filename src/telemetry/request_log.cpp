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
  RequestRecord* slot;
  if (ring_.size() < capacity_) {
    ring_.push_back(std::move(r));  // filling: head_ stays 0
    slot = &ring_.back();
  } else {
    slot = &ring_[head_];
    *slot = std::move(r);
    head_ = (head_ + 1) % capacity_;
  }
  for (const auto& l : listeners_) l(*slot);
  return slot->seq;
}

std::vector<const RequestRecord*> RequestLog::recent(const RequestFilter& filter) const {
  std::vector<const RequestRecord*> out;
  for (const RequestRecord& r : ring_)
    if (filter.matches(r)) out.push_back(&r);
  // By seq, not by arrival: a worker's records arrive in batches (telemetry/tally.hpp).
  std::sort(out.begin(), out.end(), [](const RequestRecord* a, const RequestRecord* b) { return a->seq > b->seq; });
  if (out.size() > filter.limit) out.resize(filter.limit);
  return out;
}

}  // namespace hydra::telemetry
