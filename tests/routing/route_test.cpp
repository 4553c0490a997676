#include "routing/route.hpp"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::routing;
using cluster::Health;

namespace {

cluster::NodeView node(std::size_t index, Health health, std::vector<std::string> models,
                       std::vector<std::string> resident = {}, int in_flight = 0, int slots = 4) {
  cluster::NodeView n;
  n.index = index;
  n.id = "n" + std::to_string(index);
  n.health = health;
  n.slots = slots;
  for (auto& m : models) n.models.push_back({m, 1, {}});
  for (auto& m : resident) n.resident.push_back({m, 1, 1, {}});
  n.live->in_flight = in_flight;
  return n;
}

RouteRequest want(std::string model) {
  RouteRequest r;
  r.model = std::move(model);
  return r;
}

}  // namespace

TEST(RouteV1, OnlyRoutableNodesThatHaveTheModel) {
  cluster::Snapshot s;
  s.nodes.push_back(node(0, Health::healthy, {"other:latest"}));
  s.nodes.push_back(node(1, Health::ejected, {"llama3:latest"}));
  s.nodes.push_back(node(2, Health::healthy, {"llama3:latest"}));
  ScriptedRandom r({1, 2, 3});
  auto d = route(s, want("llama3"), r);  // "llama3" means "llama3:latest"
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.ranked, std::vector<std::size_t>{2});
}

TEST(RouteV1, ResidentBeatsIdleAndLoadBreaksTies) {
  cluster::Snapshot s;
  s.nodes.push_back(node(0, Health::healthy, {"m:1b"}, {}, 0));
  s.nodes.push_back(node(1, Health::healthy, {"m:1b"}, {"m:1b"}, 3));
  s.nodes.push_back(node(2, Health::healthy, {"m:1b"}, {"m:1b"}, 1));
  ScriptedRandom r({5, 5, 5});
  auto d = route(s, want("m:1b"), r);
  EXPECT_EQ(d.ranked, (std::vector<std::size_t>{2, 1, 0}));
  EXPECT_NE(d.reason.find("resident on 2 of 3"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("n2"), std::string::npos);
}

TEST(RouteV1, LoadIsRelativeToSlots) {
  cluster::Snapshot s;
  s.nodes.push_back(node(0, Health::healthy, {"m:1b"}, {"m:1b"}, 2, 2));  // full
  s.nodes.push_back(node(1, Health::healthy, {"m:1b"}, {"m:1b"}, 3, 8));  // 3/8
  ScriptedRandom r({0});
  EXPECT_EQ(route(s, want("m:1b"), r).ranked.front(), 1u);
}

TEST(RouteV1, EqualNodesAreChosenByTheInjectedRandomness) {
  cluster::Snapshot s;
  s.nodes.push_back(node(0, Health::healthy, {"m:1b"}));
  s.nodes.push_back(node(1, Health::healthy, {"m:1b"}));
  ScriptedRandom first({9, 1});
  EXPECT_EQ(route(s, want("m:1b"), first).ranked.front(), 1u);
  ScriptedRandom second({1, 9});
  EXPECT_EQ(route(s, want("m:1b"), second).ranked.front(), 0u);
}

TEST(RouteV1, SuspectNodesComeLast) {
  cluster::Snapshot s;
  s.nodes.push_back(node(0, Health::suspect, {"m:1b"}, {"m:1b"}));
  s.nodes.push_back(node(1, Health::healthy, {"m:1b"}, {}, 3));
  ScriptedRandom r({0});
  EXPECT_EQ(route(s, want("m:1b"), r).ranked, (std::vector<std::size_t>{1, 0}));
}

TEST(RouteV1, ExplicitErrors) {
  cluster::Snapshot empty;
  ScriptedRandom r({0});
  EXPECT_EQ(route(empty, want("m"), r).error_status, 503);
  cluster::Snapshot down;
  down.nodes.push_back(node(0, Health::ejected, {"m:latest"}));
  EXPECT_EQ(route(down, want("m"), r).error_status, 503);
  cluster::Snapshot s;
  s.nodes.push_back(node(0, Health::healthy, {"a:latest"}));
  auto d = route(s, want("zzz"), r);
  EXPECT_EQ(d.error_status, 404);
  EXPECT_EQ(d.error, "model \"zzz\" not found, try pulling it first");
}

TEST(RouteAny, LeastLoadedRoutableNode) {
  cluster::Snapshot s;
  s.nodes.push_back(node(0, Health::healthy, {}, {}, 4));
  s.nodes.push_back(node(1, Health::healthy, {}, {}, 1));
  s.nodes.push_back(node(2, Health::ejected, {}, {}, 0));
  ScriptedRandom r({0});
  EXPECT_EQ(route_any(s, r).ranked, (std::vector<std::size_t>{1, 0}));
}
