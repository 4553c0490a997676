// loadgen's NDJSON timing: lines are timed at the read that completes them.
#include "chunk_timer.hpp"

#include <gtest/gtest.h>

using loadgen::ChunkTimer;
using namespace std::chrono_literals;

TEST(ChunkTimer, TimesFirstLineAndGaps) {
  ChunkTimer t;
  t.feed("{\"response\":\"a\",\"done\":false}\n", 100ms);
  t.feed("{\"response\":\"b\",\"done\":false}\n", 130ms);
  t.feed("{\"done\":true,\"done_reason\":\"stop\"}\n", 180ms);
  t.finish(181ms);
  EXPECT_EQ(t.lines(), 3u);
  EXPECT_EQ(t.first_at(), std::chrono::nanoseconds(100ms));
  ASSERT_EQ(t.gaps().size(), 2u);
  EXPECT_EQ(t.gaps()[0], std::chrono::nanoseconds(30ms).count());
  EXPECT_EQ(t.gaps()[1], std::chrono::nanoseconds(50ms).count());
  EXPECT_TRUE(t.saw_done());
  EXPECT_FALSE(t.saw_error());
}

TEST(ChunkTimer, LineSplitAcrossReadsCountsWhenComplete) {
  ChunkTimer t;
  t.feed("{\"response\":", 10ms);
  EXPECT_EQ(t.lines(), 0u);
  EXPECT_FALSE(t.first_at());
  t.feed("\"a\"}\n{\"resp", 25ms);
  EXPECT_EQ(t.lines(), 1u);
  EXPECT_EQ(t.first_at(), std::chrono::nanoseconds(25ms));
  t.feed("onse\":\"b\"}\n", 40ms);
  EXPECT_EQ(t.lines(), 2u);
  EXPECT_EQ(t.gaps(), std::vector<int64_t>{std::chrono::nanoseconds(15ms).count()});
}

TEST(ChunkTimer, LinesInOneReadShareItsTime) {
  ChunkTimer t;
  t.feed("{\"a\":1}\n{\"b\":2}\n\n{\"done\":true}\n", 5ms);
  EXPECT_EQ(t.lines(), 3u);  // the blank line is no chunk
  EXPECT_EQ(t.gaps(), (std::vector<int64_t>{0, 0}));
  EXPECT_TRUE(t.saw_done());
}

TEST(ChunkTimer, UnterminatedBodyIsOneChunkAtFinish) {
  ChunkTimer t;  // a non-streamed reply: one JSON object, no newline
  t.feed("{\"model\":\"m\",", 7ms);
  t.feed("\"done\":true}", 9ms);
  EXPECT_EQ(t.lines(), 0u);
  t.finish(9ms);
  EXPECT_EQ(t.lines(), 1u);
  EXPECT_EQ(t.first_at(), std::chrono::nanoseconds(9ms));
  EXPECT_TRUE(t.saw_done());
}

TEST(ChunkTimer, ErrorLineAndMissingDone) {
  ChunkTimer t;
  t.feed("{\"response\":\"a\",\"done\":false}\n{\"error\":\"node failed mid-stream\"}\n", 1ms);
  t.finish(2ms);
  EXPECT_TRUE(t.saw_error());
  EXPECT_FALSE(t.saw_done());
  ChunkTimer cut;
  cut.feed("{\"response\":\"a\",\"done\":false}\n", 1ms);
  cut.finish(2ms);
  EXPECT_FALSE(cut.saw_done());
  EXPECT_FALSE(cut.saw_error());
}
