// What several gateways share (state/shared.hpp): the pure parts (messages, the beat's JSON,
// the degraded split), and the Lua scripts against a real redis-server on loopback, with two
// Shared objects standing for two gateways.
#include "memory/run_awaitable.hpp"
#include "state/shared.hpp"
#include "support/http_client.hpp"
#include "support/redis.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <thread>

using namespace hydra::state;
using hydra::test::RedisServer;
using namespace std::chrono_literals;

namespace {

template <class T>
T run(boost::asio::awaitable<T> a) {
  return hydra::test::run_awaitable(std::move(a));
}

SharedSettings as(std::string id, std::chrono::milliseconds ttl = 10'000ms) {
  SharedSettings s;
  s.gateway_id = std::move(id);
  s.lease_ttl = ttl;
  s.timeout = 2000ms;
  return s;
}

RedisUrl url_of(const RedisServer& r) {
  std::string error;
  return *parse_redis_url(r.url(), error);
}

}  // namespace

TEST(SharedMessages, EncodeAndDecodeAndRefuseWhatIsNotOne) {
  Message m{"eject", "gw-a", "127.0.0.1:9\t1000\tConnection refused"};
  auto back = decode(encode(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, "eject");
  EXPECT_EQ(back->gateway, "gw-a");
  EXPECT_EQ(back->body, m.body);  // tabs inside the body survive
  EXPECT_FALSE(decode("no tabs"));
  EXPECT_FALSE(decode("\tgw\tbody"));
  EXPECT_FALSE(decode("kind\t\tbody"));
}

TEST(SharedMessages, LogsShowARedisUrlWithoutItsPassword) {
  EXPECT_EQ(without_password("redis://:s3cret@10.0.0.2:6379/1"), "redis://:***@10.0.0.2:6379/1");
  EXPECT_EQ(without_password("redis://user:s3cret@10.0.0.2"), "redis://user:***@10.0.0.2");
  EXPECT_EQ(without_password("redis://10.0.0.2:6379"), "redis://10.0.0.2:6379");
}

TEST(SharedBeat, ReadsTheScriptsJsonWithEmptyListsWrittenAsObjects) {
  auto b = parse_beat(R"({"epoch":"e1","members":[{"id":"a","info":"{}"}],"elsewhere":{"n1":2},)"
                      R"("nodes":{},"ejects":[{"id":"n2","value":"a\tdown","ttl":900}]})");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->epoch, "e1");
  ASSERT_EQ(b->members.size(), 1u);
  EXPECT_EQ(b->elsewhere.at("n1"), 2);
  EXPECT_TRUE(b->nodes.empty());
  ASSERT_EQ(b->ejects.size(), 1u);
  EXPECT_EQ(b->ejects[0].ttl_ms, 900);
  EXPECT_FALSE(parse_beat("not json"));
  EXPECT_FALSE(parse_beat(R"({"members":[]})"));  // no epoch
}

TEST(SharedSplit, SlotsSplitAmongGatewaysAddUpAndNoneGetsNothing) {
  for (int slots : {1, 2, 3, 4, 7, 16})
    for (std::size_t n : {1u, 2u, 3u, 5u}) {
      int sum = 0;
      for (std::size_t rank = 0; rank < n; ++rank) {
        const int share = degraded_share(slots, n, rank, "10.0.0.5:11434");
        EXPECT_GE(share, 1);
        sum += share;
      }
      if (slots >= static_cast<int>(n)) EXPECT_EQ(sum, slots) << slots << " slots, " << n << " gateways";
      else EXPECT_EQ(sum, static_cast<int>(n));  // fewer slots than gateways: one each
    }
  // The remainder does not always go to the same gateway.
  int first_gets_more = 0;
  for (int node = 0; node < 20; ++node)
    first_gets_more += degraded_share(4, 3, 0, "node-" + std::to_string(node)) == 2;
  EXPECT_GT(first_gets_more, 0);
  EXPECT_LT(first_gets_more, 20);
}

TEST(SharedRedis, SlotsAreCountedAcrossGatewaysAndADeadOnesReturn) {
  RedisServer redis;
  Shared a(url_of(redis), as("gw-a", 600ms));
  Shared b(url_of(redis), as("gw-b", 600ms));
  ASSERT_TRUE(run(a.beat("{}", "e-a")));
  auto seen = run(b.beat("{}", "e-b"));
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->epoch, "e-a");  // the first one's, kept
  EXPECT_EQ(seen->members.size(), 2u);
  auto one = run(a.acquire("n1", 2));
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->granted);
  auto two = run(b.acquire("n1", 2));
  ASSERT_TRUE(two && two->granted);
  EXPECT_EQ(two->elsewhere, 1);
  auto three = run(b.acquire("n1", 2));
  ASSERT_TRUE(three);
  EXPECT_FALSE(three->granted);  // 2 slots, both held
  EXPECT_EQ(three->elsewhere, 1);
  EXPECT_EQ(run(b.beat("{}", "e-b"))->elsewhere.at("n1"), 1);  // A's, as B sees it
  b.release("n1");
  ASSERT_TRUE(hydra::test::wait_for([&] { return run(a.beat("{}", "e-a"))->elsewhere.count("n1") == 0; }, 2000ms));
  // A stops beating (it died): its lease returns once lease_ttl has passed.
  EXPECT_FALSE(run(b.acquire("n1", 1))->granted);
  EXPECT_TRUE(hydra::test::wait_for([&] { return run(b.acquire("n1", 1))->granted; }, 3000ms));
}

TEST(SharedRedis, KeysLimitsCountAcrossGatewaysAndRegisteredNodesListed) {
  RedisServer redis;
  Shared a(url_of(redis), as("gw-a"));
  Shared b(url_of(redis), as("gw-b"));
  ASSERT_TRUE(run(a.beat("{}", "e")));
  ASSERT_TRUE(run(b.beat("{}", "e")));
  int admitted = 0;
  for (int i = 0; i < 10; ++i) {
    auto v = run((i % 2 ? a : b).admit_key("k", 6, 0));
    ASSERT_TRUE(v);
    if (v->refusal.empty()) ++admitted;
    else EXPECT_EQ(v->refusal, "rpm");
  }
  EXPECT_EQ(admitted, 6);
  EXPECT_TRUE(run(a.admit_key("c", 0, 1))->refusal.empty());
  EXPECT_EQ(run(b.admit_key("c", 0, 1))->refusal, "concurrency");
  a.finish_key("c");
  EXPECT_TRUE(hydra::test::wait_for([&] { return run(b.admit_key("c", 0, 1))->refusal.empty(); }, 2000ms));

  ASSERT_TRUE(run(a.put_node("10.0.0.7:11434", R"({"id":"10.0.0.7:11434","url":"http://10.0.0.7:11434"})", 5000ms)));
  auto view = run(b.beat("{}", "e"));
  ASSERT_TRUE(view);
  ASSERT_EQ(view->nodes.size(), 1u);
  EXPECT_EQ(view->nodes[0].id, "10.0.0.7:11434");
  EXPECT_GT(view->nodes[0].ttl_ms, 0);
  ASSERT_TRUE(run(b.drop_node("10.0.0.7:11434")));
  EXPECT_TRUE(run(a.beat("{}", "e"))->nodes.empty());
}

TEST(SharedRedis, MessagesReachTheOtherGatewayNotTheSender) {
  // What the handlers write to outlives the gateways: their subscriber threads may still
  // deliver a message while the test's last lines run, until each Shared is destroyed.
  std::mutex mu;
  std::vector<Message> at_a, at_b;
  RedisServer redis;
  Shared a(url_of(redis), as("gw-a"));
  Shared b(url_of(redis), as("gw-b"));
  a.listen([&](Message m) {
    std::lock_guard lock(mu);
    at_a.push_back(std::move(m));
  });
  b.listen([&](Message m) {
    std::lock_guard lock(mu);
    at_b.push_back(std::move(m));
  });
  // Subscriptions take a moment: publish until B hears.
  ASSERT_TRUE(hydra::test::wait_for(
      [&] {
        a.publish("freed", "n1");
        std::lock_guard lock(mu);
        return !at_b.empty();
      },
      5000ms));
  std::lock_guard lock(mu);
  EXPECT_EQ(at_b.front().kind, "freed");
  EXPECT_EQ(at_b.front().gateway, "gw-a");
  EXPECT_TRUE(at_a.empty());  // its own messages are dropped
}

TEST(SharedRedis, ARefusedSelectIsAnOutageNotAnAnswerFromTheWrongDatabase) {
  RedisServer redis;
  std::string error;
  auto url = *parse_redis_url(redis.url() + "/99", error);  // Redis has 16 databases by default
  Shared a(url, as("gw-a"));
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(run(a.beat("{}", "e"))) << "beat " << i;
  EXPECT_FALSE(a.up());
  Shared b(url_of(redis), as("gw-b"));
  auto seen = run(b.beat("{}", "e"));
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->members.size(), 1u);  // gw-a never registered itself in database 0
}
