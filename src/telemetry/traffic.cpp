#include "telemetry/traffic.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace hydra::telemetry {

namespace json = boost::json;

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

void Traffic::record(Time at, double ttft_ms, double total_ms, uint64_t tokens) {
  // Trimmed here too, not only when a dashboard asks for a summary: the window stays the
  // last few seconds whether or not anyone is watching.
  trim(at);
  samples_.push_back({at, ttft_ms, total_ms, tokens});
  if (samples_.size() > 100'000) samples_.pop_front();  // bounded under any load
}

void Traffic::trim(Time now) {
  while (!samples_.empty() && now - samples_.front().at > window_) samples_.pop_front();
}

namespace {
json::value percentiles(std::vector<double> values) {
  if (values.empty()) return nullptr;
  json::object o;
  o["p50"] = percentile(values, 50);
  o["p95"] = percentile(values, 95);
  o["p99"] = percentile(values, 99);
  return o;
}
}  // namespace

json::object Traffic::summary(Time now, const Now& g) {
  trim(now);
  std::vector<double> ttft, total;
  uint64_t tokens = 0;
  std::size_t recent = 0;  // finished in the last 5 s: the rate
  for (const auto& s : samples_) {
    if (s.ttft_ms >= 0) ttft.push_back(s.ttft_ms);
    total.push_back(s.total_ms);
    if (now - s.at <= std::chrono::seconds(5)) {
      ++recent;
      tokens += s.tokens;
    }
  }
  json::object o;
  o["t"] = g.unix_ms;
  o["requests_per_s"] = static_cast<double>(recent) / 5.0;
  o["ttft_ms"] = percentiles(std::move(ttft));
  o["total_ms"] = percentiles(std::move(total));
  o["queue_depth"] = g.queue_depth;
  o["in_flight"] = g.in_flight;
  o["failovers"] = g.failovers;
  o["cache_hits"] = g.cache_hits;
  o["tokens_per_s"] = static_cast<double>(tokens) / 5.0;
  return o;
}

}  // namespace hydra::telemetry
