#pragma once
// The last few seconds of finished model requests, summarised once a second for the
// dashboard's live charts: rate, latency percentiles, tokens per second. Each second's summary,
// with that second's counts per node, is kept for the last five minutes (history()), so a page
// that opens shows the charts filled at once. Single-threaded: the gateway's thread.
//
// The window is kept as one latency histogram per second (LatencyBins), not as samples: what a request costs does not grow with the rate or the window,
// and a summary merges ten histograms whatever the traffic.
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::telemetry {

// Durations counted in buckets: to the whole microsecond below 32 us, then 32 buckets per power
// of two (a bucket's value, its middle, is within 1/64 of any duration in it; buckets are
// 1.6-3.1% wide), up to 2^40 us (12.7 days); one last bucket holds everything longer.
class LatencyBins {
public:
  static constexpr std::size_t kBuckets = 32 + 35 * 32 + 1;
  void add(double ms);
  void add(const LatencyBins& other);
  uint64_t count() const { return count_; }
  // The p-th percentile (0..100) by nearest rank, as its bucket's value in ms; 0 when empty.
  double percentile(double p) const;
  static std::size_t bucket_of(double ms);
  static double value_of(std::size_t bucket);  // ms

private:
  std::array<uint32_t, kBuckets> n_{};
  uint64_t count_ = 0;
};

class Traffic {
public:
  using Time = std::chrono::steady_clock::time_point;
  explicit Traffic(std::chrono::seconds window = std::chrono::seconds(10), std::size_t history_seconds = 300)
      : window_(window), seconds_(static_cast<std::size_t>(window.count()) + 1), history_seconds_(history_seconds) {}

  // ttft_ms < 0: unknown (the request was not served). `node`: the node that served, if any;
  // `error`: the request failed (not counted for one the client gave up on).
  void record(Time at, double ttft_ms, double total_ms, uint64_t tokens, std::string_view node = {},
              bool error = false);

  // Adds what `part` recorded (a worker thread's tally, with the same window): its seconds into
  // this window's, its counts since the last tick into this one's.
  void fold(const Traffic& part);

  struct Now {
    int64_t unix_ms = 0;
    std::size_t queue_depth = 0;
    int64_t in_flight = 0;
    uint64_t failovers = 0;   // cumulative
    uint64_t cache_hits = 0;  // cumulative
    uint64_t prefix_requests = 0, prefix_hits = 0, prefix_tokens = 0;  // cumulative (prefix affinity)
  };
  // {t, requests_per_s, ttft_ms:{p50,p95,p99}|null, total_ms:{...}|null, queue_depth, in_flight,
  //  failovers, cache_hits, prefix_requests, prefix_hits, prefix_tokens, tokens_per_s}
  boost::json::object summary(Time now, const Now& gauges);
  // Once a second: the summary plus what finished since the last tick (requests, errors,
  // tokens, and the same per node: {"nodes": {id: {requests, errors, tokens}}}), kept in the
  // history and returned.
  boost::json::object tick(Time now, const Now& gauges);
  // The last `seconds` ticks (at most the history's length), oldest first.
  boost::json::array history(std::size_t seconds) const;
  std::size_t history_size() const { return history_.size(); }
  // Requests in the window ending at the newest one recorded (older seconds are reused by
  // record() itself, whether or not anyone asks for a summary).
  std::size_t samples() const;

private:
  struct Counts {
    uint64_t requests = 0, errors = 0, tokens = 0;
  };
  struct Second {
    int64_t second = INT64_MIN;  // whole seconds of steady_clock
    uint64_t requests = 0, tokens = 0;
    LatencyBins ttft, total;
  };
  // The window's seconds ending at `newest` (at most window_ of them, those recorded).
  template <class F> void each_second(int64_t newest, int64_t count, F&& f) const;
  std::chrono::seconds window_;
  std::vector<Second> seconds_;  // a ring: second s in seconds_[s mod size]
  int64_t newest_ = INT64_MIN;
  std::size_t history_seconds_;
  std::deque<boost::json::object> history_;
  Counts second_;                            // since the last tick
  std::map<std::string, Counts, std::less<>> second_by_node_;
};

}  // namespace hydra::telemetry
