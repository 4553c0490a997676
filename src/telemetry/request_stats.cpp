#include "telemetry/request_stats.hpp"

namespace hydra::telemetry {

void RequestStats::record(std::string_view route, int status, std::chrono::nanoseconds took) {
  ++total_;
  auto it = routes_.find(route.empty() ? std::string_view("(unknown)") : route);
  if (it == routes_.end()) it = routes_.emplace(route.empty() ? "(unknown)" : std::string(route), PerRoute{}).first;
  ++it->second.total;
  it->second.total_ms += std::chrono::duration<double, std::milli>(took).count();
  ++it->second.by_status[status];
}

void RequestStats::fold(const RequestStats& part) {
  total_ += part.total_;
  for (const auto& [route, r] : part.routes_) {
    PerRoute& mine = routes_[route];
    mine.total += r.total;
    mine.total_ms += r.total_ms;
    for (const auto& [status, n] : r.by_status) mine.by_status[status] += n;
  }
}

uint64_t RequestStats::count(std::string_view route, int status) const {
  auto it = routes_.find(route);
  if (it == routes_.end()) return 0;
  auto s = it->second.by_status.find(status);
  return s == it->second.by_status.end() ? 0 : s->second;
}

boost::json::object RequestStats::to_json() const {
  boost::json::object by_endpoint;
  for (const auto& [route, r] : routes_) {
    boost::json::object statuses;
    for (const auto& [status, n] : r.by_status) statuses[std::to_string(status)] = n;
    boost::json::object entry;
    entry["total"] = r.total;
    entry["by_status"] = std::move(statuses);
    entry["mean_ms"] = r.total ? r.total_ms / static_cast<double>(r.total) : 0.0;
    by_endpoint[route] = std::move(entry);
  }
  boost::json::object out;
  out["total"] = total_;
  out["by_endpoint"] = std::move(by_endpoint);
  return out;
}

}  // namespace hydra::telemetry
