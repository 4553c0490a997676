// The dashboard's traffic window keeps the last seconds only, whether or not a dashboard
// is watching (summaries used to be the only thing that trimmed it).
#include "telemetry/traffic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace hydra::telemetry;
using namespace std::chrono;

TEST(Traffic, SamplesOlderThanTheWindowGoWithoutAnyoneAskingForASummary) {
  Traffic t(seconds(10));
  const Traffic::Time start{hours(1)};
  for (int i = 0; i < 5000; ++i) t.record(start + milliseconds(100) * i, 5, 10, 3);  // 10 per second, 500 s
  EXPECT_LE(t.samples(), 101u);
  EXPECT_GE(t.samples(), 100u);
  auto summary = t.summary(start + milliseconds(100) * 4999, {});
  EXPECT_NEAR(summary.at("requests_per_s").as_double(), 10.0, 0.5);
}

// The window's latencies are kept as histograms: a percentile comes out within 1/64 of the
// exact nearest-rank one, whatever the spread of the durations.
TEST(LatencyBins, EachDurationLandsInABucketWhoseValueIsWithinOneSixtyFourth) {
  for (double ms : {0.0, 0.001, 0.031, 0.032, 0.033, 0.5, 1.0, 7.3, 250.0, 1234.5, 60'000.0, 3.6e6, 1e9, 1.0995e9}) {
    const double v = LatencyBins::value_of(LatencyBins::bucket_of(ms));
    if (ms < 0.032) EXPECT_NEAR(v, ms, 0.0011) << ms;
    else EXPECT_NEAR(v, ms, ms / 64.0 * (1 + 1e-9)) << ms;
  }
  // From 2^40 us (12.7 days) on: the last bucket, which says 2^40 us.
  for (double ms : {1.1e9, 2e9, 1e300, std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(LatencyBins::bucket_of(ms), LatencyBins::kBuckets - 1) << ms;
    EXPECT_DOUBLE_EQ(LatencyBins::value_of(LatencyBins::bucket_of(ms)), 1099511627.776) << ms;
  }
  EXPECT_EQ(LatencyBins::bucket_of(1.0995e9), LatencyBins::kBuckets - 2);
  EXPECT_EQ(LatencyBins::bucket_of(-5), 0u);
  EXPECT_EQ(LatencyBins::bucket_of(std::nan("")), 0u);
  for (std::size_t b = 1; b < LatencyBins::kBuckets; ++b)
    EXPECT_LT(LatencyBins::value_of(b - 1), LatencyBins::value_of(b)) << b;
}

TEST(LatencyBins, PercentilesAreTheExactOnesToWithinTheBucketWidth) {
  std::mt19937 rng(5);
  std::lognormal_distribution<double> ms(3.0, 1.5);  // a long tail: ~20 ms median, seconds at the top
  LatencyBins bins;
  std::vector<double> exact;
  for (int i = 0; i < 20'000; ++i) {
    exact.push_back(ms(rng));
    bins.add(exact.back());
  }
  std::sort(exact.begin(), exact.end());
  for (double p : {1.0, 50.0, 95.0, 99.0, 100.0}) {
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(exact.size())));
    const double want = exact[std::max<std::size_t>(rank, 1) - 1];
    EXPECT_NEAR(bins.percentile(p), want, want / 64.0 + 0.001) << p;
  }
  EXPECT_EQ(LatencyBins().percentile(50), 0.0);
}

TEST(Traffic, TheSummaryCoversTheLastTenSecondsAndTheRateTheLastFiveWholeOnes) {
  Traffic t(seconds(10));
  const Traffic::Time start{hours(1)};
  // 20 s of 1000 ms requests, then 10 s of 10 ms ones, 20 a second.
  for (int i = 0; i < 400; ++i) t.record(start + milliseconds(50) * i, 500, 1000, 2);
  for (int i = 400; i < 600; ++i) t.record(start + milliseconds(50) * i, 5, 10, 2);
  auto s = t.summary(start + seconds(30), {});
  EXPECT_NEAR(s.at("total_ms").at("p99").as_double(), 10.0, 10.0 / 64);  // the slow ones are out of the window
  EXPECT_NEAR(s.at("ttft_ms").at("p50").as_double(), 5.0, 5.0 / 64);
  EXPECT_DOUBLE_EQ(s.at("requests_per_s").as_double(), 20.0);
  EXPECT_DOUBLE_EQ(s.at("tokens_per_s").as_double(), 40.0);
  EXPECT_EQ(t.samples(), 200u);
  // Ten seconds later with nothing new: an empty window.
  auto quiet = t.summary(start + seconds(41), {});
  EXPECT_TRUE(quiet.at("total_ms").is_null());
  EXPECT_DOUBLE_EQ(quiet.at("requests_per_s").as_double(), 0.0);
}
