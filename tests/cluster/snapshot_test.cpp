// Snapshots are copy-on-write per node: next_snapshot() copies the nodes marked changed and
// shares every other node with the snapshot before; NodeList reads like a vector of NodeView.
#include "cluster/snapshot.hpp"

#include <gtest/gtest.h>
#include <algorithm>

using namespace hydra::cluster;

namespace {

std::vector<NodeView> three_nodes() {
  std::vector<NodeView> nodes(3);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].index = i;
    nodes[i].id = "n" + std::to_string(i);
    nodes[i].health = Health::healthy;
    nodes[i].models.push_back({"m:7b", 1000, {}});
  }
  return nodes;
}

}  // namespace

TEST(SnapshotPublish, OneNodeChangedIsCopiedAndEveryOtherNodeShared) {
  auto nodes = three_nodes();
  auto first = next_snapshot(nullptr, nodes, {}, {"10.0.0.9:50052"}, 1);
  ASSERT_EQ(first->nodes.size(), 3u);
  EXPECT_EQ(first->holders_of("m:7b").size(), 3u);

  nodes[1].health = Health::ejected;
  std::vector<bool> changed{false, true, false};
  auto second = next_snapshot(first.get(), nodes, changed, {}, 2);
  EXPECT_EQ(second->generation, 2u);
  EXPECT_EQ(second->nodes.ptr(0), first->nodes.ptr(0));
  EXPECT_EQ(second->nodes.ptr(2), first->nodes.ptr(2));
  EXPECT_NE(second->nodes.ptr(1), first->nodes.ptr(1));
  EXPECT_EQ(second->nodes[1].health, Health::ejected);
  EXPECT_EQ(first->nodes[1].health, Health::healthy) << "a published snapshot never changes";
  // The index is the new snapshot's own.
  EXPECT_EQ(second->holders_of("m:7b").size(), 2u);
  EXPECT_EQ(second->routable_count, 2u);
  EXPECT_EQ(first->holders_of("m:7b").size(), 3u);
}

TEST(SnapshotPublish, NodesThePreviousSnapshotLacksAreCopiedAndAShorterListDropsTheRest) {
  auto nodes = three_nodes();
  nodes.pop_back();
  auto two = next_snapshot(nullptr, nodes, {}, {}, 1);
  nodes = three_nodes();
  auto three = next_snapshot(two.get(), nodes, {false, false, false}, {}, 2);
  ASSERT_EQ(three->nodes.size(), 3u);
  EXPECT_EQ(three->nodes.ptr(0), two->nodes.ptr(0));
  EXPECT_EQ(three->nodes[2].id, "n2");
  nodes.pop_back();
  auto again = next_snapshot(three.get(), nodes, {false, false}, {}, 3);
  ASSERT_EQ(again->nodes.size(), 2u);
  EXPECT_EQ(again->nodes.ptr(1), three->nodes.ptr(1));
}

TEST(SnapshotPublish, NodeListReadsLikeAVectorOfNodes) {
  auto snap = next_snapshot(nullptr, three_nodes(), {}, {}, 1);
  const NodeList& list = snap->nodes;
  EXPECT_FALSE(list.empty());
  EXPECT_EQ(list.front().id, "n0");
  EXPECT_EQ(list.back().id, "n2");
  std::vector<std::string> ids;
  for (const auto& n : list) ids.push_back(n.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"n0", "n1", "n2"}));
  auto it = std::find_if(list.begin(), list.end(), [](const NodeView& n) { return n.id == "n1"; });
  ASSERT_NE(it, list.end());
  EXPECT_EQ(it->index, 1u);
  EXPECT_EQ(list.end() - list.begin(), 3);
}

TEST(SnapshotPublish, EditingAHandMadeSnapshotsNodeLeavesACopyOfTheListAlone) {
  Snapshot a;
  for (auto& n : three_nodes()) a.nodes.push_back(std::move(n));
  Snapshot b = a;  // shares every node
  EXPECT_EQ(b.nodes.ptr(1), a.nodes.ptr(1));
  b.nodes.edit(1).removed = true;
  EXPECT_TRUE(b.nodes[1].removed);
  EXPECT_FALSE(a.nodes[1].removed);
  EXPECT_EQ(b.nodes.ptr(0), a.nodes.ptr(0));
  EXPECT_EQ(b.nodes[1].live, a.nodes[1].live) << "counters stay shared by every copy of a node";
}
