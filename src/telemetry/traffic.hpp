#pragma once
// The last few seconds of finished model requests, summarised once a second for the
// dashboard's live charts: rate, latency percentiles, tokens per second.
// Single-threaded: the gateway's thread.
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <deque>

namespace hydra::telemetry {

class Traffic {
public:
  using Time = std::chrono::steady_clock::time_point;
  explicit Traffic(std::chrono::seconds window = std::chrono::seconds(10)) : window_(window) {}

  // ttft_ms < 0: unknown (the request was not served).
  void record(Time at, double ttft_ms, double total_ms, uint64_t tokens);

  struct Now {
    int64_t unix_ms = 0;
    std::size_t queue_depth = 0;
    int64_t in_flight = 0;
    uint64_t failovers = 0;   // cumulative
    uint64_t cache_hits = 0;  // cumulative
  };
  // {t, requests_per_s, ttft_ms:{p50,p95,p99}|null, total_ms:{...}|null, queue_depth, in_flight,
  //  failovers, cache_hits, tokens_per_s}
  boost::json::object summary(Time now, const Now& gauges);
  // Samples kept: those of the last window (record() drops older ones itself).
  std::size_t samples() const { return samples_.size(); }

private:
  struct Sample {
    Time at;
    double ttft_ms, total_ms;
    uint64_t tokens;
  };
  void trim(Time now);
  std::chrono::seconds window_;
  std::deque<Sample> samples_;
};

// The p-th percentile (0..100) of `values` by nearest rank; `values` is sorted in place.
double percentile(std::vector<double>& values, double p);

}  // namespace hydra::telemetry
