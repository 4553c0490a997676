#pragma once
// The last few seconds of finished model requests, summarised once a second for the
// dashboard's live charts: rate, latency percentiles, tokens per second. Each second's summary,
// with that second's counts per node, is kept for the last five minutes (history()), so a page
// that opens shows the charts filled at once. Single-threaded: the gateway's thread.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

namespace hydra::telemetry {

class Traffic {
public:
  using Time = std::chrono::steady_clock::time_point;
  explicit Traffic(std::chrono::seconds window = std::chrono::seconds(10), std::size_t history_seconds = 300)
      : window_(window), history_seconds_(history_seconds) {}

  // ttft_ms < 0: unknown (the request was not served). `node`: the node that served, if any;
  // `error`: the request failed (not counted for one the client gave up on).
  void record(Time at, double ttft_ms, double total_ms, uint64_t tokens, std::string_view node = {},
              bool error = false);

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
  // Samples kept: those of the last window (record() drops older ones itself).
  std::size_t samples() const { return samples_.size(); }

private:
  struct Sample {
    Time at;
    double ttft_ms, total_ms;
    uint64_t tokens;
  };
  struct Counts {
    uint64_t requests = 0, errors = 0, tokens = 0;
  };
  void trim(Time now);
  std::chrono::seconds window_;
  std::deque<Sample> samples_;
  std::size_t history_seconds_;
  std::deque<boost::json::object> history_;
  Counts second_;                            // since the last tick
  std::map<std::string, Counts, std::less<>> second_by_node_;
};

// The p-th percentile (0..100) of `values` by nearest rank; `values` is reordered in place.
double percentile(std::vector<double>& values, double p);

}  // namespace hydra::telemetry
