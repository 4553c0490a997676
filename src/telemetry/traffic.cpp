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

std::size_t LatencyBins::bucket_of(double ms) {
  if (!(ms > 0)) return 0;  // NaN and negatives too
  const double us_d = ms * 1000.0;
  if (us_d >= 1099511627776.0) return kBuckets - 1;  // 2^40 us and more: the last bucket
  const auto us = static_cast<uint64_t>(us_d);
  if (us < 32) return us;
  const int e = 63 - __builtin_clzll(us);  // 5..39
  const uint64_t m = us >> (e - 5);        // 32..63
  return static_cast<std::size_t>(e - 4) * 32 + (m - 32);
}

double LatencyBins::value_of(std::size_t bucket) {
  if (bucket < 32) return static_cast<double>(bucket) / 1000.0;
  if (bucket >= kBuckets - 1) return 1099511627776.0 / 1000.0;  // 2^40 us: "at least"
  const int e = static_cast<int>(bucket / 32) + 4;
  const uint64_t low = (32 + bucket % 32) << (e - 5), width = uint64_t{1} << (e - 5);
  return (static_cast<double>(low) + static_cast<double>(width) / 2.0) / 1000.0;
}

void LatencyBins::add(double ms) {
  ++n_[bucket_of(ms)];
  ++count_;
}

void LatencyBins::add(const LatencyBins& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < kBuckets; ++i) n_[i] += other.n_[i];
  count_ += other.count_;
}

double LatencyBins::percentile(double p) const {
  if (count_ == 0) return 0;
  const auto rank = std::clamp<uint64_t>(static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_))), 1, count_);
  uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += n_[i];
    if (seen >= rank) return value_of(i);
  }
  return value_of(kBuckets - 1);
}

namespace {
int64_t whole_seconds(Traffic::Time t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}
}  // namespace

void Traffic::record(Time at, double ttft_ms, double total_ms, uint64_t tokens, std::string_view node, bool error) {
  for (Counts* c : {&second_, node.empty() ? nullptr : &node_counts(second_by_node_, node)}) {
    if (!c) continue;
    ++c->requests;
    c->errors += error ? 1 : 0;
    c->tokens += tokens;
  }
  const int64_t s = whole_seconds(at);
  const auto size = static_cast<int64_t>(seconds_.size());
  Second& slot = seconds_[static_cast<std::size_t>((s % size + size) % size)];
  if (slot.second > s) return;  // older than the ring holds
  if (slot.second != s) {  // a second gone by makes room: the window stays bounded unwatched
    slot = Second();
    slot.second = s;
  }
  newest_ = std::max(newest_, s);
  ++slot.requests;
  slot.tokens += tokens;
  if (ttft_ms >= 0) slot.ttft.add(ttft_ms);
  slot.total.add(total_ms);
}

void Traffic::fold(const Traffic& part) {
  second_.requests += part.second_.requests;
  second_.errors += part.second_.errors;
  second_.tokens += part.second_.tokens;
  for (const auto& [node, c] : part.second_by_node_) {
    Counts& mine = node_counts(second_by_node_, node);
    mine.requests += c.requests;
    mine.errors += c.errors;
    mine.tokens += c.tokens;
  }
  const auto size = static_cast<int64_t>(seconds_.size());
  for (const Second& theirs : part.seconds_) {
    if (theirs.second == INT64_MIN || theirs.requests == 0) continue;
    const int64_t s = theirs.second;
    Second& slot = seconds_[static_cast<std::size_t>((s % size + size) % size)];
    if (slot.second > s) continue;  // older than the ring holds
    if (slot.second != s) {
      slot = Second();
      slot.second = s;
    }
    newest_ = std::max(newest_, s);
    slot.requests += theirs.requests;
    slot.tokens += theirs.tokens;
    slot.ttft.add(theirs.ttft);
    slot.total.add(theirs.total);
  }
}

template <class F>
void Traffic::each_second(int64_t newest, int64_t count, F&& f) const {
  for (const Second& s : seconds_)
    if (s.second != INT64_MIN && s.second <= newest && newest - s.second < count) f(s);
}

std::size_t Traffic::samples() const {
  std::size_t n = 0;
  each_second(newest_, window_.count(), [&](const Second& s) { n += s.requests; });
  return n;
}

namespace {
json::value percentiles(const LatencyBins& bins) {
  if (bins.count() == 0) return nullptr;
  json::object o;
  o["p50"] = bins.percentile(50);
  o["p95"] = bins.percentile(95);
  o["p99"] = bins.percentile(99);
  return o;
}
}  // namespace

json::object Traffic::summary(Time now, const Now& g) {
  const int64_t now_s = whole_seconds(now);
  LatencyBins ttft, total;
  each_second(now_s, window_.count(), [&](const Second& s) {
    ttft.add(s.ttft);
    total.add(s.total);
  });
  // The rate: the five whole seconds before this one (the current second is still filling).
  uint64_t tokens = 0, recent = 0;
  each_second(now_s - 1, 5, [&](const Second& s) {
    recent += s.requests;
    tokens += s.tokens;
  });
  json::object o;
  o["t"] = g.unix_ms;
  o["requests_per_s"] = static_cast<double>(recent) / 5.0;
  o["ttft_ms"] = percentiles(ttft);
  o["total_ms"] = percentiles(total);
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
