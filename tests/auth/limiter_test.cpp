// Per-key limits as sliding windows, on a manual clock.
#include "auth/limiter.hpp"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::auth;
using namespace std::chrono;

namespace {

std::string header(const RateHeaders& h, const std::string& name) {
  for (const auto& [n, v] : h.fields)
    if (n == name) return v;
  return "";
}

}  // namespace

TEST(SlidingWindow, ForgetsWhatIsOlderThanItsSpan) {
  SlidingWindow w(seconds(60));
  SteadyTime t0{hours(1)};
  w.add(t0, 1);
  w.add(t0 + seconds(30), 1);
  EXPECT_EQ(w.total(t0 + seconds(59)), 2u);
  EXPECT_EQ(w.total(t0 + seconds(60)), 1u);
  EXPECT_EQ(w.total(t0 + seconds(90)), 0u);
}

TEST(SlidingWindow, SaysWhenTheTotalDropsBelowALimit) {
  SlidingWindow w(seconds(60));
  SteadyTime t0{hours(1)};
  w.add(t0, 5);
  w.add(t0 + seconds(10), 5);
  w.add(t0 + seconds(20), 5);
  EXPECT_EQ(w.until_below(t0 + seconds(30), 20), nanoseconds(0));
  EXPECT_EQ(w.until_below(t0 + seconds(30), 15), seconds(30));  // the first 5 leave at t0+60
  EXPECT_EQ(w.until_below(t0 + seconds(30), 6), seconds(40));   // two must leave
  EXPECT_EQ(w.until_oldest_leaves(t0 + seconds(30)), seconds(30));
}

TEST(SlidingWindow, MergesCloseEntriesSoItStaysSmall) {
  SlidingWindow w(seconds(60), seconds(1));
  SteadyTime t0{hours(1)};
  for (int i = 0; i < 1000; ++i) w.add(t0 + milliseconds(i), 1);  // all within one second
  EXPECT_EQ(w.total(t0 + seconds(2)), 1000u);
  EXPECT_EQ(w.total(t0 + seconds(61)), 0u);
}

TEST(Limiter, RpmRefusesTheRequestPastTheLimitAndSaysWhenToRetry) {
  Key k;
  k.name = "a";
  k.rpm = 3;
  Limiter l;
  SteadyTime t0{hours(1)};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l.admit(k, t0 + seconds(i * 10)));
  for (int i = 0; i < 3; ++i) l.finish(k);
  Verdict v = l.admit(k, t0 + seconds(25));
  EXPECT_EQ(v.refusal, Refusal::rpm);
  EXPECT_EQ(v.retry_after, seconds(35));  // the first request leaves the window at t0+60
  EXPECT_EQ(retry_after_seconds(v.retry_after), 35);
  auto h = l.headers(k, t0 + seconds(25));
  EXPECT_EQ(header(h, "x-ratelimit-limit-requests"), "3");
  EXPECT_EQ(header(h, "x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(header(h, "x-ratelimit-reset-requests"), "35s");
  EXPECT_TRUE(l.admit(k, t0 + seconds(60)));  // a place freed
  EXPECT_EQ(l.stats().at("a").requests, 4u);
  EXPECT_EQ(l.stats().at("a").refused.at("rpm"), 1u);
}

TEST(Limiter, ARequestRefusedAfterAdmissionIsTakenBack) {
  Key k;
  k.name = "b";
  k.rpm = 1;
  Limiter l;
  SteadyTime t0{hours(1)};
  EXPECT_TRUE(l.admit(k, t0));
  l.take_back(k);
  l.finish(k);
  EXPECT_TRUE(l.admit(k, t0 + seconds(1)));
  EXPECT_EQ(l.stats().at("b").requests, 1u);
  EXPECT_EQ(l.admit(k, t0 + seconds(2)).refusal, Refusal::rpm);
}

TEST(Limiter, MaxConcurrentCountsRequestsInProgress) {
  Key k;
  k.name = "c";
  k.max_concurrent = 2;
  Limiter l;
  SteadyTime t0{hours(1)};
  EXPECT_TRUE(l.admit(k, t0));
  EXPECT_TRUE(l.admit(k, t0));
  EXPECT_EQ(l.admit(k, t0).refusal, Refusal::concurrency);
  l.finish(k);
  EXPECT_TRUE(l.admit(k, t0));
  EXPECT_EQ(l.stats().at("c").in_progress, 2u);
}

TEST(Limiter, TpmCountsGeneratedTokensAfterTheFact) {
  Key k;
  k.name = "t";
  k.tpm = 100;
  Limiter l;
  SteadyTime t0{hours(1)};
  EXPECT_TRUE(l.admit(k, t0));
  l.finish(k);
  l.add_tokens(k, 120, t0 + seconds(5));  // one request may overshoot; the next waits
  Verdict v = l.admit(k, t0 + seconds(10));
  EXPECT_EQ(v.refusal, Refusal::tpm);
  EXPECT_EQ(v.retry_after, seconds(55));
  auto h = l.headers(k, t0 + seconds(10));
  EXPECT_EQ(header(h, "x-ratelimit-limit-tokens"), "100");
  EXPECT_EQ(header(h, "x-ratelimit-remaining-tokens"), "0");
  EXPECT_EQ(header(h, "x-ratelimit-limit-requests"), "");  // no rpm: no requests half
  EXPECT_TRUE(l.admit(k, t0 + seconds(65)));
  EXPECT_EQ(l.stats().at("t").tokens, 120u);
}

TEST(Limiter, ResetTextFollowsOpenAisFormat) {
  EXPECT_EQ(reset_text(milliseconds(20)), "20ms");
  EXPECT_EQ(reset_text(milliseconds(1500)), "1.5s");
  EXPECT_EQ(reset_text(seconds(60)), "1m0s");
  EXPECT_EQ(retry_after_seconds(milliseconds(1)), 1);
  EXPECT_EQ(retry_after_seconds(milliseconds(1001)), 2);
}
