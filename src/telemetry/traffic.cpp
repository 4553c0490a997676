#include "telemetry/traffic.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace hydra::telemetry {

namespace json = boost::json;

namespace {
template <class Map>
auto& node_counts(Map& m, std::string_view node) {
  auto it = m.find(node);
  if (it == m.end()) it = m.emplace(std::string(node), typename Map::mapped_type{}).first;
  return it->second;
}
}  // namespace

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  auto nth = values.begin() + static_cast<std::ptrdiff_t>(std::clamp<std::size_t>(rank, 1, values.size()) - 1);
  std::nth_element(values.begin(), nth, values.end());  // linear: the summary runs every second
  return *nth;
}

void Traffic::record(Time at, double ttft_ms, double total_ms, uint64_t tokens, std::string_view node, bool error) {
  for (Counts* c : {&second_, node.empty() ? nullptr : &node_counts(second_by_node_, node)}) {
    if (!c) continue;
    ++c->requests;
    c->errors += error ? 1 : 0;
    c->tokens += tokens;
  }
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
  o["prefix_requests"] = g.prefix_requests;
  o["prefix_hits"] = g.prefix_hits;
  o["prefix_tokens"] = g.prefix_tokens;
  o["tokens_per_s"] = static_cast<double>(tokens) / 5.0;
  return o;
}

namespace {
template <class C>
json::object counts_json(const C& c) {
  json::object o;
  o["requests"] = c.requests;
  o["errors"] = c.errors;
  o["tokens"] = c.tokens;
  return o;
}
}  // namespace

json::object Traffic::tick(Time now, const Now& gauges) {
  json::object o = summary(now, gauges);
  o["requests"] = second_.requests;
  o["errors"] = second_.errors;
  o["tokens"] = second_.tokens;
  json::object nodes;
  for (const auto& [id, c] : second_by_node_) nodes[id] = counts_json(c);
  o["nodes"] = std::move(nodes);
  second_ = {};
  second_by_node_.clear();
  history_.push_back(o);
  while (history_.size() > history_seconds_) history_.pop_front();
  return o;
}

json::array Traffic::history(std::size_t seconds) const {
  json::array out;
  const std::size_t n = std::min(seconds, history_.size());
  for (auto it = history_.end() - static_cast<std::ptrdiff_t>(n); it != history_.end(); ++it) out.push_back(*it);
  return out;
}

}  // namespace hydra::telemetry
