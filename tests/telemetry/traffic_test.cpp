// The dashboard's traffic window keeps the last seconds only, whether or not a dashboard
// is watching (summaries used to be the only thing that trimmed it).
#include "telemetry/traffic.hpp"

#include <gtest/gtest.h>

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
