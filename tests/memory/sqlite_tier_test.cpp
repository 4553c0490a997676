// The SQLite tier: entries survive a restart (a new SqliteTier on the same file), expire, are
// purged by model, and the tier stays within its byte budget. Its calls run on its own thread
// and resume on the caller's io_context.
#include "memory/run_awaitable.hpp"
#include "memory/sqlite_tier.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace hydra::memory;
namespace asio = boost::asio;

namespace {

class SqliteTierTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hydra-cache-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "cache.db").string(); }

  template <class T>
  T run(asio::awaitable<T> a) {
    return hydra::test::run_awaitable(std::move(a));
  }
  std::shared_ptr<const Entry> get(SqliteTier& t, const std::string& key, int64_t now = 1) {
    return run(t.get(key, now));
  }

  static std::shared_ptr<const Entry> entry(std::string model, std::string text, int64_t expires = 0) {
    Entry e;
    e.model = std::move(model);
    e.node = "127.0.0.1:1";
    e.pieces = {std::move(text)};
    e.expires_unix_ms = expires;
    return std::make_shared<const Entry>(std::move(e));
  }

  std::filesystem::path dir_;
};

}  // namespace

TEST_F(SqliteTierTest, EntriesSurviveARestartAndExpire) {
  {
    SqliteTier tier(path(), 1 << 20);
    tier.put("k1", entry("a:latest", "{\"done\":true}"));
    tier.put("k2", entry("a:latest", "later", 1000));
    tier.flush();
    EXPECT_EQ(tier.stats().entries, 2u);
  }
  SqliteTier again(path(), 1 << 20);
  EXPECT_EQ(again.stats().entries, 2u);
  auto e = get(again, "k1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->body(), "{\"done\":true}");
  EXPECT_EQ(e->node, "127.0.0.1:1");
  EXPECT_TRUE(get(again, "k2", 999));
  EXPECT_FALSE(get(again, "k2", 1000));  // expired: gone
  EXPECT_EQ(again.stats().entries, 1u);
  EXPECT_FALSE(get(again, "nothing"));
}

TEST_F(SqliteTierTest, PurgeByModelOrAll) {
  SqliteTier tier(path(), 1 << 20);
  tier.put("a1", entry("a:latest", "1"));
  tier.put("a2", entry("a:latest", "2"));
  tier.put("b1", entry("b:latest", "3"));
  tier.flush();
  EXPECT_EQ(run(tier.erase("a:latest")), 2u);
  EXPECT_FALSE(get(tier, "a1"));
  EXPECT_TRUE(get(tier, "b1"));
  EXPECT_EQ(run(tier.erase("")), 1u);
  EXPECT_EQ(tier.stats().entries, 0u);
}

TEST_F(SqliteTierTest, StaysWithinItsBudgetDroppingTheLeastRecentlyUsed) {
  const std::string text(10000, 'x');
  SqliteTier tier(path(), 5 * 10100);
  for (int i = 0; i < 20; ++i) {
    auto e = std::make_shared<Entry>(*entry("a:latest", text));
    e->created_unix_ms = i;  // used = created: k0 is the least recently used
    tier.put("k" + std::to_string(i), e);
  }
  tier.flush();
  EXPECT_LE(tier.stats().bytes, 5u * 10100);
  EXPECT_GE(tier.stats().evictions, 15u);
  EXPECT_TRUE(get(tier, "k19", 100));
  EXPECT_FALSE(get(tier, "k0", 100));
}
