// loadgen's percentile figures: nearest rank, always an observed sample.
#include "percentiles.hpp"

#include <gtest/gtest.h>

using loadgen::percentile;
using loadgen::summarize;

TEST(Percentiles, NearestRankOnOneToHundred) {
  std::vector<int64_t> v;
  for (int64_t i = 100; i >= 1; --i) v.push_back(i);  // order must not matter
  EXPECT_EQ(percentile(v, 50), 50);
  EXPECT_EQ(percentile(v, 90), 90);
  EXPECT_EQ(percentile(v, 99), 99);
  EXPECT_EQ(percentile(v, 100), 100);
  EXPECT_EQ(percentile(v, 0.5), 1);
}

TEST(Percentiles, SmallSetsPickObservedValues) {
  std::vector<int64_t> v{30, 10, 20};
  EXPECT_EQ(percentile(v, 50), 20);
  EXPECT_EQ(percentile(v, 99), 30);
  std::vector<int64_t> ten{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(percentile(ten, 90), 9);  // rank ceil(0.9 * 10) = 9, despite binary rounding
  std::vector<int64_t> one{7};
  EXPECT_EQ(percentile(one, 1), 7);
  EXPECT_EQ(percentile(one, 100), 7);
}

TEST(Percentiles, NinetyFifthOfTwenty) {
  std::vector<int64_t> v;
  for (int64_t i = 1; i <= 20; ++i) v.push_back(i * 10);
  auto s = summarize(v);
  EXPECT_EQ(s.p95, 190);  // rank 19 of 20
  EXPECT_EQ(s.p90, 180);
}

TEST(Percentiles, EmptyIsZero) {
  std::vector<int64_t> none;
  EXPECT_EQ(percentile(none, 50), 0);
  auto s = summarize(none);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.max, 0);
}

TEST(Percentiles, SummaryHasCountMaxAndMean) {
  std::vector<int64_t> v{5, 1, 4, 2, 3, 1000};
  auto s = summarize(v);
  EXPECT_EQ(s.count, 6u);
  EXPECT_EQ(s.p50, 3);
  EXPECT_EQ(s.p95, 1000);  // rank ceil(0.95 * 6) = 6
  EXPECT_EQ(s.p99, 1000);
  EXPECT_EQ(s.max, 1000);
  EXPECT_DOUBLE_EQ(s.mean, 1015.0 / 6);
}
