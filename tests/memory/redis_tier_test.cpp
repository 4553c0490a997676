// The Redis tier against a real redis-server on loopback: entries with their TTL, shared by
// two clients (two gateways), purged by model; Redis killed: the tier answers "miss" within its
// timeout, counts it, and works again once Redis is back.
#include "memory/redis_tier.hpp"
#include "memory/run_awaitable.hpp"
#include "support/redis.hpp"
#include "support/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

using namespace hydra::memory;
using hydra::test::RedisServer;
namespace asio = boost::asio;
using namespace std::chrono;

namespace {

template <class T>
T run(asio::awaitable<T> a) {
  return hydra::test::run_awaitable(std::move(a));
}

RedisUrl url_of(const RedisServer& r) {
  std::string error;
  return *parse_redis_url(r.url(), error);
}

Entry entry(std::string model, std::string text, int64_t expires = 0) {
  Entry e;
  e.model = std::move(model);
  e.node = "127.0.0.1:9";
  e.pieces = {std::move(text)};
  e.expires_unix_ms = expires;
  return e;
}

int64_t now_ms() { return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(); }

}  // namespace

TEST(RedisUrl, Parses) {
  std::string error;
  auto u = parse_redis_url("redis://:pw@10.0.0.9:6380/2", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "10.0.0.9");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->password, "pw");
  EXPECT_EQ(u->db, 2);
  EXPECT_EQ(parse_redis_url("localhost", error)->port, 6379);
  EXPECT_FALSE(parse_redis_url("rediss://x", error));
  EXPECT_FALSE(parse_redis_url("redis://x:port", error));
  EXPECT_FALSE(parse_redis_url("redis://", error));
  EXPECT_FALSE(parse_redis_url("redis://[::1", error));
  auto v6 = parse_redis_url("redis://[::1]:6380", error);
  ASSERT_TRUE(v6) << error;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 6380);
}

TEST(RedisTier, TwoClientsShareEntriesWithTheirTtlAndPurgeByModel) {
  RedisServer redis;
  RedisTier a(url_of(redis), milliseconds(500)), b(url_of(redis), milliseconds(500));
  const int64_t now = now_ms();
  a.put("k1", entry("m:latest", "{\"done\":true}", now + 60'000), now);
  a.put("k2", entry("m:latest", "short", now + 300), now);
  a.put("k3", entry("n:latest", "other", now + 60'000), now);
  // Writes are queued: wait until the other client sees them.
  ASSERT_TRUE(hydra::test::wait_for([&] { return run(b.get("k3", now_ms())) != nullptr; }, seconds(5)));
  auto got = run(b.get("k1", now_ms()));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->body(), "{\"done\":true}");
  EXPECT_EQ(got->node, "127.0.0.1:9");
  EXPECT_TRUE(b.up());
  // Redis expires k2 by itself (PX).
  EXPECT_TRUE(hydra::test::wait_for([&] { return run(b.get("k2", now)) == nullptr; }, seconds(5)));
  EXPECT_EQ(run(b.erase("m:latest")), 1u);  // k1 (k2 expired)
  EXPECT_FALSE(run(a.get("k1", now_ms())));
  EXPECT_TRUE(run(a.get("k3", now_ms())));
  EXPECT_EQ(run(a.erase("")), 1u);
  EXPECT_FALSE(run(a.get("k3", now_ms())));
}

TEST(RedisTier, ARedisThatDiesIsAMissWithinTheTimeoutAndTheTierRecovers) {
  RedisServer redis;
  RedisTier tier(url_of(redis), milliseconds(50));
  const int64_t now = now_ms();
  tier.put("k", entry("m:latest", "kept", now + 60'000), now);
  ASSERT_TRUE(hydra::test::wait_for([&] { return run(tier.get("k", now_ms())) != nullptr; }, seconds(5)));
  redis.kill_now();
  // Each get ends in a miss (no hang: the test's own timeout would catch one), is counted,
  // and the tier says it is down.
  EXPECT_FALSE(run(tier.get("k", now_ms())));
  EXPECT_FALSE(tier.up());
  EXPECT_GE(tier.errors(), 1u);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(run(tier.get("k", now_ms())));
  EXPECT_GE(tier.errors(), 21u);
  redis.start();  // the same port, empty (no persistence)
  tier.put("k", entry("m:latest", "again", now_ms() + 60'000), now_ms());
  ASSERT_TRUE(hydra::test::wait_for(
      [&] {
        tier.put("k", entry("m:latest", "again", now_ms() + 60'000), now_ms());
        return run(tier.get("k", now_ms())) != nullptr;
      },
      seconds(10)));
  EXPECT_TRUE(tier.up());
}

TEST(RedisTier, ItKnowsWhetherRedisAnswersWithoutARequestAndARefusedPasswordIsDown) {
  RedisServer redis({"--requirepass", "s3cret"});
  std::string error;
  auto good = *parse_redis_url("redis://:s3cret@127.0.0.1:" + std::to_string(redis.port()), error);
  auto none = *parse_redis_url(redis.url(), error);
  RedisTier right(good, milliseconds(500)), wrong(none, milliseconds(500));
  // No request at all: the tier's own probe finds out.
  EXPECT_TRUE(hydra::test::wait_for([&] { return right.up(); }, seconds(5)));
  EXPECT_TRUE(hydra::test::wait_for([&] { return wrong.errors() > 0; }, seconds(5)));
  EXPECT_FALSE(wrong.up());
  // Writes with no password are refused and counted, never stored.
  const int64_t now = now_ms();
  wrong.put("k", entry("m:latest", "nope", now + 60'000), now);
  right.put("k2", entry("m:latest", "yes", now + 60'000), now);
  ASSERT_TRUE(hydra::test::wait_for([&] { return run(right.get("k2", now_ms())) != nullptr; }, seconds(5)));
  EXPECT_FALSE(run(right.get("k", now_ms())));
  EXPECT_FALSE(wrong.up());
}
