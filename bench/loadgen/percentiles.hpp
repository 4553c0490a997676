#pragma once
// Summary statistics of a set of latency samples (nanoseconds): what the load generator
// reports for total latency, time to first chunk and inter-chunk gaps.
#include <cstdint>
#include <vector>

namespace loadgen {

struct Summary {
  std::size_t count = 0;
  int64_t p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;  // nanoseconds
  double mean = 0;
};

// Nearest-rank percentile (the smallest sample with at least p% of samples at or below it),
// so every reported figure is a latency that was really observed. p in (0, 100].
// Reorders `samples` (partial sorts); an empty set gives 0.
int64_t percentile(std::vector<int64_t>& samples, double p);

// count, p50/p90/p95/p99, max and mean of `samples` (reordered).
Summary summarize(std::vector<int64_t>& samples);

}  // namespace loadgen
