// Snapshots are copy-on-write per node: next_snapshot() copies the nodes marked changed and
// shares every other node with the snapshot before; NodeList reads like a vector of NodeView.
#include "cluster/snapshot.hpp"

#include <gtest/gtest.h>
#include <algorithm>
#include <random>
#include <thread>

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
  auto first = next_snapshot(nullptr, nodes, {}, {RpcServerView{.endpoint = "10.0.0.9:50052"}}, 1);
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

namespace {

// The index as build_index() makes it, for comparison with a patched one.
std::string index_text(const Snapshot& s) {
  std::vector<std::string> models;
  for (const auto& [name, list] : s.holders) models.push_back(name);
  std::sort(models.begin(), models.end());
  std::string out = "routable " + std::to_string(s.routable_count) + "\n";
  for (const auto& name : models) {
    out += name + ":";
    for (const auto& h : s.holders.at(name))
      out += " " + std::to_string(h.node) + "/" + std::to_string(h.size) + "/" + std::to_string(h.size_vram) +
             (h.resident ? "r" : "") + (h.loading ? "l" : "");
    out += "\n";
  }
  return out;
}

}  // namespace

TEST(SnapshotPublish, APatchedIndexIsTheIndexBuiltAnew) {
  // A fleet large enough that a publish after a few changes patches the index of the snapshot
  // before; random changes (health, models on disk, resident, loading, nodes added and
  // dropped at the end), each index compared with one built from scratch.
  std::mt19937 rng(17);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto randomise = [&](NodeView& n) {
    n.health = pick(5) == 0 ? Health::ejected : pick(4) == 0 ? Health::suspect : Health::healthy;
    n.removed = pick(20) == 0;
    n.models.clear();
    n.resident.clear();
    n.loading.clear();
    for (int m = 0; m < 6; ++m)
      if (pick(2)) n.models.push_back({"m" + std::to_string(m) + ":7b", 1000u + static_cast<uint64_t>(pick(3)), {}});
    for (const auto& m : n.models) {
      if (pick(3) == 0) n.resident.push_back({m.name, m.size, static_cast<uint64_t>(pick(2)) * m.size, {}});
      else if (pick(6) == 0) n.loading.push_back(m.name);
    }
  };
  std::vector<NodeView> nodes(400);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].index = i;
    randomise(nodes[i]);
  }
  auto current = next_snapshot(nullptr, nodes, {}, {}, 1);
  for (int round = 0; round < 500; ++round) {
    std::vector<bool> changed(nodes.size(), false);
    const int how_many = 1 + pick(8);  // up to 8 of 400: patched (with a node more, built anew)
    for (int k = 0; k < how_many; ++k) {
      const auto i = static_cast<std::size_t>(pick(static_cast<int>(nodes.size())));
      randomise(nodes[i]);
      changed[i] = true;
    }
    if (pick(10) == 0) {  // the list grows or shrinks at its end
      if (pick(2) && nodes.size() > 390) {
        nodes.pop_back();
        changed.pop_back();
      } else {
        nodes.emplace_back();
        nodes.back().index = nodes.size() - 1;
        randomise(nodes.back());
        changed.push_back(true);
      }
    }
    auto next = next_snapshot(current.get(), nodes, changed, {}, static_cast<uint64_t>(round) + 2);
    Snapshot fresh;
    for (const auto& n : nodes) fresh.nodes.push_back(n);
    fresh.build_index();
    ASSERT_TRUE(index_text(*next) == index_text(fresh)) << "round " << round << ":\n"
                                                       << index_text(*next) << "\nbuilt anew:\n"
                                                       << index_text(fresh);
    ASSERT_TRUE(next->indexed);
    current = next;
  }
}

// Slots are taken with one atomic step: threads racing for a node's last slots never take more
// than it has, counting the slots other gateways hold there.
TEST(ClaimSlot, ThreadsRacingNeverTakeMoreThanTheNodeHas) {
  NodeView node;
  node.slots = 5;
  node.slots_configured = true;
  node.live->elsewhere = 1;  // another gateway holds one
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (claim_slot(node, "m:7b")) taken.fetch_add(1);
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(taken.load(), 4);
  EXPECT_EQ(node.live->in_flight.load(), 4);
  node.live->in_flight.fetch_sub(1);  // a lease ends: one more fits, and only one
  EXPECT_TRUE(claim_slot(node, "m:7b"));
  EXPECT_FALSE(claim_slot(node, "m:7b"));
}
