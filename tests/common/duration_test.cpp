#include "common/duration.hpp"
#include "common/timefmt.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

using namespace std::chrono;
using hydra::KeepAlive;
using hydra::parse_go_duration;
using hydra::parse_keep_alive;

TEST(GoDuration, ParsesUnitsAndCompounds) {
  EXPECT_EQ(parse_go_duration("5m"), minutes(5));
  EXPECT_EQ(parse_go_duration("1h30m"), minutes(90));
  EXPECT_EQ(parse_go_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_go_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_go_duration("-1s"), seconds(-1));
  EXPECT_EQ(parse_go_duration("0"), nanoseconds(0));
  EXPECT_EQ(parse_go_duration("10us"), microseconds(10));
}

TEST(GoDuration, RejectsMalformed) {
  EXPECT_FALSE(parse_go_duration(""));
  EXPECT_FALSE(parse_go_duration("10"));   // Go: missing unit
  EXPECT_FALSE(parse_go_duration("abc"));
  EXPECT_FALSE(parse_go_duration("5x"));
  EXPECT_FALSE(parse_go_duration("m"));
  EXPECT_FALSE(parse_go_duration("1.2.3s"));  // Go: invalid duration (was read as 1.2s)
}

TEST(GoDuration, Formats) {
  EXPECT_EQ(hydra::format_go_duration(minutes(5)), "5m0s");
  EXPECT_EQ(hydra::format_go_duration(seconds(0)), "0s");
  EXPECT_EQ(hydra::format_go_duration(hours(1) + seconds(2)), "1h0m2s");
}

namespace {
hydra::KeepAliveResult keep(std::string_view json_text) {
  static boost::json::value v;
  v = boost::json::parse(json_text);
  return parse_keep_alive(&v, KeepAlive{false, minutes(5)});
}
}  // namespace

TEST(KeepAlive, NumbersAreSecondsAndNegativeIsForever) {
  EXPECT_EQ(keep("30").value->duration, seconds(30));
  EXPECT_FALSE(keep("30").value->forever);
  EXPECT_TRUE(keep("-1").value->forever);
  EXPECT_EQ(keep("0").value->duration, seconds(0));
}

TEST(KeepAlive, StringsAreGoDurations) {
  EXPECT_EQ(keep("\"10m\"").value->duration, minutes(10));
  EXPECT_TRUE(keep("\"-1m\"").value->forever);
  EXPECT_EQ(keep("\"45\"").value->duration, seconds(45));  // bare number string
  EXPECT_EQ(keep("\"1.5\"").value->duration, milliseconds(1500));
  EXPECT_EQ(keep("\"+45\"").value->duration, seconds(45));
  EXPECT_FALSE(keep("\"+-45\"").value);
  EXPECT_FALSE(keep("\" 45\"").value);
  EXPECT_FALSE(keep("\"0x10\"").value);
  EXPECT_FALSE(keep("\"45 \"").value);
  EXPECT_FALSE(keep("\"\"").value);
  auto bad = keep("\"soon\"");
  EXPECT_FALSE(bad.value);
  EXPECT_NE(bad.error.find("invalid duration"), std::string::npos);
  EXPECT_FALSE(keep("true").value);
}

TEST(KeepAlive, HugeOrNonFiniteValuesNeverOverflow) {
  EXPECT_TRUE(keep("1e30").value->forever);       // beyond 64 bits of nanoseconds: forever
  EXPECT_TRUE(keep("\"1e30\"").value->forever);
  EXPECT_FALSE(keep("1e400").value);              // JSON 1e400 parses as infinity
  EXPECT_FALSE(keep("\"nan\"").value);
  EXPECT_FALSE(keep("\"inf\"").value);
  EXPECT_FALSE(keep("\"-inf\"").value);
}

TEST(KeepAlive, AbsentOrNullUsesFallback) {
  auto r = parse_keep_alive(nullptr, KeepAlive{false, minutes(5)});
  EXPECT_EQ(r.value->duration, minutes(5));
  EXPECT_EQ(keep("null").value->duration, minutes(5));
}

TEST(TimeFormat, Rfc3339WithNanoseconds) {
  hydra::WallTime t{seconds(1700000000) + nanoseconds(123)};
  EXPECT_EQ(hydra::rfc3339(t), "2023-11-14T22:13:20.000000123Z");
}
