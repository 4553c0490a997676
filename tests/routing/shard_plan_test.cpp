// Sharding plans (issue #21): the fewest free rpc-servers, most free memory first, split by
// free memory; a clear refusal when they cannot hold the model.
#include "routing/shard_plan.hpp"

#include <gtest/gtest.h>
#include <numeric>

using namespace hydra::routing;

namespace {
constexpr uint64_t GB = 1'000'000'000ull;
}

TEST(ShardPlan, FewestServersMostFreeFirstSplitByFreeMemory) {
  std::vector<RpcServer> servers{{"a:50052", 10 * GB}, {"b:50052", 40 * GB}, {"c:50052", 30 * GB},
                                 {"d:50052", 80 * GB, /*in_use=*/true}};
  auto plan = plan_shards(servers, {60 * GB, 5 * GB, 0});
  ASSERT_TRUE(plan.ok()) << plan.error;
  EXPECT_EQ(plan.servers, (std::vector<std::string>{"b:50052", "c:50052"}));  // 70 GB: two suffice
  ASSERT_EQ(plan.split.size(), 2u);
  EXPECT_NEAR(plan.split[0], 40.0 / 70, 1e-12);
  EXPECT_NEAR(plan.split[1], 30.0 / 70, 1e-12);
  EXPECT_EQ(plan.planned_bytes, 70 * GB);
}

TEST(ShardPlan, TheCoordinatorsOwnMemoryCountsAndTakesTheLastShare) {
  std::vector<RpcServer> servers{{"a:1", 20 * GB}, {"b:1", 20 * GB}};
  auto plan = plan_shards(servers, {30 * GB, 2 * GB, 16 * GB});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan.servers.size(), 1u);  // 20 + 16 >= 32
  ASSERT_EQ(plan.split.size(), 2u);
  EXPECT_NEAR(std::accumulate(plan.split.begin(), plan.split.end(), 0.0), 1.0, 1e-12);
  EXPECT_NEAR(plan.split[1], 16.0 / 36, 1e-12);
}

TEST(ShardPlan, TooLittleFreeMemoryIsAClearRefusal) {
  std::vector<RpcServer> servers{{"a:1", 20 * GB}, {"b:1", 60 * GB, true}};
  auto plan = plan_shards(servers, {200 * GB, 10 * GB, 0});
  EXPECT_FALSE(plan.ok());
  EXPECT_TRUE(plan.servers.empty());
  EXPECT_NE(plan.error.find("needs 210.0 GB"), std::string::npos) << plan.error;
  EXPECT_NE(plan.error.find("1 free server and the coordinator offer 20.0 GB"), std::string::npos) << plan.error;
}
