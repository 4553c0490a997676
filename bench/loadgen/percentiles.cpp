#include "percentiles.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace loadgen {

int64_t percentile(std::vector<int64_t>& samples, double p) {
  if (samples.empty()) return 0;
  auto n = samples.size();
  // Rank 1..n; ceil(p/100 * n) is the nearest-rank definition. The epsilon keeps 90% of 10
  // samples at rank 9 despite 0.9 * 10 being 9.000000000000002 in binary.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n) - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, n);
  auto nth = samples.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(samples.begin(), nth, samples.end());
  return *nth;
}

Summary summarize(std::vector<int64_t>& samples) {
  Summary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  s.p50 = percentile(samples, 50);
  s.p90 = percentile(samples, 90);
  s.p95 = percentile(samples, 95);
  s.p99 = percentile(samples, 99);
  s.max = *std::max_element(samples.begin(), samples.end());
  // Sum in double: 10^6 samples of seconds would overflow nothing, but the mean is a double anyway.
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0,
                           [](double acc, int64_t v) { return acc + static_cast<double>(v); }) /
           static_cast<double>(samples.size());
  return s;
}

}  // namespace loadgen
