// loadgen's schedules: open loop hands out fixed slots regardless of progress; closed loop
// hands out "now" until the end.
#include "schedule.hpp"

#include <gtest/gtest.h>

using loadgen::Nanos;
using loadgen::Schedule;
using namespace std::chrono_literals;

TEST(Schedule, OpenLoopSlotsAreFixedByRate) {
  auto s = Schedule::open_loop(4, 1s);  // due at 0, 250, 500, 750 ms
  EXPECT_TRUE(s.open());
  EXPECT_EQ(s.claim(0ns), Nanos(0ms));
  EXPECT_EQ(s.claim(0ns), Nanos(250ms));
  // A worker that comes late still gets the next slot's due time, in the past: the wait
  // then counts in that request's latency.
  EXPECT_EQ(s.claim(900ms), Nanos(500ms));
  EXPECT_EQ(s.claim(900ms), Nanos(750ms));
  EXPECT_FALSE(s.claim(900ms));
  EXPECT_EQ(s.claimed(), 4u);
}

TEST(Schedule, OpenLoopDoesNotDriftOverLongRuns) {
  auto s = Schedule::open_loop(3, 1000s);  // 1/3 s is not exact in nanoseconds
  std::optional<Nanos> last;
  for (int i = 0; i < 3000; ++i) last = s.claim(0ns);
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, Nanos(999'666'666'667));  // slot 2999 = 2999/3 s, rounded once
}

TEST(Schedule, ClosedLoopIsNowUntilTheEnd) {
  auto s = Schedule::closed_loop(2s);
  EXPECT_FALSE(s.open());
  EXPECT_EQ(s.claim(10ms), Nanos(10ms));
  EXPECT_EQ(s.claim(1999ms), Nanos(1999ms));
  EXPECT_FALSE(s.claim(2s));
  EXPECT_EQ(s.claimed(), 2u);
}
