// Prefix affinity, pure: the key, the index (slots, keep_alive, sweep, bounds) with injected
// time, the session pins, and the prefix scorer inside route() and admission's choice.
#include "routing/admission_queue.hpp"
#include "routing/fixtures.hpp"
#include "routing/prefix.hpp"
#include "routing/route.hpp"
#include "routing/scorers.hpp"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::routing;
using namespace hydra::routing::test;
using namespace std::chrono;

namespace {

std::string text(std::size_t bytes, char fill = 'a') {
  std::string s;
  for (std::size_t i = 0; s.size() < bytes; ++i) s += fill + std::to_string(i) + " ";
  s.resize(bytes);
  return s;
}

PrefixKey chat(std::initializer_list<std::pair<const char*, std::string>> messages) {
  PrefixKeyBuilder b;
  for (const auto& [role, content] : messages) b.add(role, content);
  return b.finish();
}

const SteadyTime T0{hours(1)};

}  // namespace

TEST(PrefixKey, BlocksChainSoEqualHashesMeanEqualPrefixes) {
  const std::string doc = text(4000);
  auto one = chat({{"system", "be brief"}, {"user", doc}});
  auto two = chat({{"system", "be brief"}, {"user", doc}, {"assistant", text(500, 'r')}, {"user", "and?"}});
  EXPECT_EQ(one.bytes, std::string("system:be brief\nuser:").size() + doc.size() + 1);
  EXPECT_EQ(one.blocks.size(), one.bytes / kPrefixBlock);
  EXPECT_EQ(common_blocks(one.blocks, two.blocks), one.blocks.size());  // turn one is turn two's prefix
  // A change early on changes every later block, even where the text agrees again.
  auto other = chat({{"system", "be BRIEF"}, {"user", doc}});
  EXPECT_EQ(common_blocks(one.blocks, other.blocks), 0u);
  // The role counts: the same text from another role is another prompt.
  EXPECT_EQ(common_blocks(chat({{"user", doc}}).blocks, chat({{"assistant", doc}}).blocks), 0u);
  // Shorter than a block: no key.
  EXPECT_TRUE(chat({{"user", "hi"}}).empty());
}

TEST(PrefixKey, CommonBlocksFindsTheBoundaryAnywhere) {
  std::vector<uint64_t> a(100), b(100);
  for (std::size_t i = 0; i < 100; ++i) a[i] = b[i] = i + 1;
  for (std::size_t cut : {0u, 1u, 37u, 99u}) {
    auto c = b;
    for (std::size_t i = cut; i < c.size(); ++i) c[i] += 1000;  // chained: all later ones differ
    EXPECT_EQ(common_blocks(a, c), cut);
  }
  EXPECT_EQ(common_blocks(a, b), 100u);
  EXPECT_EQ(common_blocks(a, std::vector<uint64_t>(a.begin(), a.begin() + 10)), 10u);
  EXPECT_EQ(common_blocks({}, a), 0u);
}

TEST(PrefixIndex, KeepsTheLastPromptPerSlotAsTheRunnerDoes) {
  PrefixIndex index;
  const auto keep = minutes(5);
  auto a1 = chat({{"user", text(2000, 'a')}});
  auto a2 = chat({{"user", text(2000, 'a')}, {"assistant", "ok"}, {"user", text(300, 'q')}});
  auto b = chat({{"user", text(2000, 'b')}});
  auto c = chat({{"user", text(2000, 'c')}});
  index.record("n1", "m", a1, 2, keep, T0);
  EXPECT_EQ(index.match("n1", "m", a2, T0), a1.blocks.size());
  EXPECT_EQ(index.match("n2", "m", a2, T0), 0u);     // another node
  EXPECT_EQ(index.match("n1", "other", a2, T0), 0u); // another model
  // The next turn takes the slot that held the last one: a1's place goes to a2, not a new slot.
  index.record("n1", "m", a2, 2, keep, T0 + seconds(1));
  index.record("n1", "m", b, 2, keep, T0 + seconds(2));
  EXPECT_EQ(index.sequences(), 2u);
  EXPECT_EQ(index.match("n1", "m", a2, T0 + seconds(2)), a2.blocks.size());
  // Two slots: a third conversation overwrites the least recently used one (a2's).
  index.record("n1", "m", c, 2, keep, T0 + seconds(3));
  EXPECT_EQ(index.match("n1", "m", a2, T0 + seconds(3)), 0u);
  EXPECT_EQ(index.match("n1", "m", b, T0 + seconds(3)), b.blocks.size());
  EXPECT_EQ(index.sequences(), 2u);
  // A short prompt matches nothing, so it takes the least recently used slot (b's) all the same.
  index.record("n1", "m", PrefixKey{}, 2, keep, T0 + seconds(4));
  EXPECT_EQ(index.match("n1", "m", b, T0 + seconds(4)), 0u);
  EXPECT_EQ(index.match("n1", "m", c, T0 + seconds(4)), c.blocks.size());
  index.record("n9", "m", PrefixKey{}, 2, keep, T0);  // where nothing is known: nothing kept
  EXPECT_EQ(index.entries(), 1u);
}

TEST(PrefixIndex, ConversationsSharingASystemPromptKeepTheirOwnSlots) {
  PrefixIndex index;
  const std::string system = text(3000, 's');
  auto one = chat({{"system", system}, {"user", text(2000, 'a')}});
  auto two = chat({{"system", system}, {"user", text(2000, 'b')}});
  index.record("n1", "m", one, 2, minutes(5), T0);
  index.record("n1", "m", two, 2, minutes(5), T0 + seconds(1));  // shares only the system prompt: another slot
  EXPECT_EQ(index.sequences(), 2u);
  EXPECT_EQ(index.match("n1", "m", one, T0 + seconds(2)), one.blocks.size());
  EXPECT_EQ(index.match("n1", "m", two, T0 + seconds(2)), two.blocks.size());
  auto three = chat({{"system", system}, {"user", text(2000, 'c')}});
  EXPECT_EQ(index.match("n1", "m", three, T0 + seconds(2)), (std::string("system:\n") + system).size() / kPrefixBlock);
}

TEST(PrefixIndex, ForgetsAfterKeepAliveOnUnloadAndBounded) {
  PrefixIndex index(2);
  auto k = chat({{"user", text(1000)}});
  index.record("n1", "m", k, 4, minutes(5), T0);
  EXPECT_GT(index.match("n1", "m", k, T0 + minutes(4)), 0u);
  EXPECT_EQ(index.match("n1", "m", k, T0 + minutes(5)), 0u);  // its keep_alive has passed
  index.record("n1", "m", k, 4, Nanos(-1), T0);                // keep_alive < 0: while it is held
  EXPECT_GT(index.match("n1", "m", k, T0 + hours(100)), 0u);
  // The sweep drops what the node no longer holds (its /api/ps).
  index.record("n2", "m", k, 4, minutes(5), T0);
  index.sweep(T0 + seconds(1), [](const std::string& node, const std::string&) { return node != "n1"; });
  EXPECT_EQ(index.match("n1", "m", k, T0 + seconds(1)), 0u);
  EXPECT_GT(index.match("n2", "m", k, T0 + seconds(1)), 0u);
  // At most two node-model pairs: the least recently used goes.
  index.record("n3", "m", k, 4, minutes(5), T0 + seconds(2));
  index.record("n4", "m", k, 4, minutes(5), T0 + seconds(3));
  EXPECT_EQ(index.entries(), 2u);
  EXPECT_EQ(index.match("n2", "m", k, T0 + seconds(3)), 0u);
  // A long prompt keeps at most kPrefixMaxBlocks hashes.
  auto huge = chat({{"user", text(kPrefixBlock * (kPrefixMaxBlocks + 100))}});
  EXPECT_EQ(huge.blocks.size(), kPrefixMaxBlocks);
}

TEST(SessionPins, RemembersTheLastNodeWhileFresh) {
  SessionPins pins(2, minutes(30));
  pins.served("s1", "n1", T0);
  pins.served("s1", "n2", T0 + seconds(1));
  EXPECT_EQ(pins.node_of("s1", T0 + minutes(10)), "n2");
  EXPECT_EQ(pins.node_of("s1", T0 + minutes(31)), "");
  pins.served("s2", "n1", T0 + seconds(2));
  pins.served("s3", "n1", T0 + seconds(3));  // full: the oldest (s1) goes
  EXPECT_EQ(pins.size(), 2u);
  EXPECT_EQ(pins.node_of("s1", T0 + seconds(4)), "");
  EXPECT_EQ(pins.node_of("s3", T0 + seconds(4)), "n1");
}

// --- the scorer in route() ------------------------------------------------------------------

namespace {

const std::pair<std::string, uint64_t> M{"m:latest", 4 * GB};

struct PrefixFleet {
  cluster::Snapshot s;
  PrefixIndex index;
  std::shared_ptr<PrefixKey> key;
  explicit PrefixFleet(std::vector<NodeSpec> specs, std::size_t prompt_bytes = 16000)
      : s(make_snapshot(specs)), key(std::make_shared<PrefixKey>(chat({{"user", text(prompt_bytes)}}))) {}
  RouteRequest request() const {
    RouteRequest r;
    r.model = "m";
    r.prefix = key;
    r.prefix_index = &index;
    r.now = T0;
    return r;
  }
  Decision route_it() {
    ScriptedRandom random({1, 2, 3, 4});
    return route(s, request(), random);
  }
};

NodeSpec resident(int in_flight, int slots) {
  return {.models = {M}, .resident = {{M.first, M.second}}, .in_flight = in_flight, .slots = slots,
          .vram_gb = 24, .vram_free_gb = 10};
}

}  // namespace

TEST(PrefixScorer, TheNodeHoldingThePromptWinsOverAnIdleOne) {
  PrefixFleet f({resident(0, 4), resident(2, 4)});  // n1 is busier, but holds the prompt
  f.index.record("n1", "m:latest", *f.key, 4, minutes(5), T0);
  auto d = f.route_it();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.ranked.front(), 1u);
  EXPECT_EQ(d.candidates.front().prefix_tokens, f.key->blocks.size() * kPrefixBlock / 4);
  EXPECT_NE(d.reason.find("prefix match 4,000 tokens (100%) on n1"), std::string::npos) << d.reason;
  // Without the index, the idle node wins: the prefix part is not there.
  RouteRequest plain = f.request();
  plain.prefix_index = nullptr;
  ScriptedRandom random({1, 2});
  EXPECT_EQ(route(f.s, plain, random).ranked.front(), 0u);
}

TEST(PrefixScorer, WhatEveryNodeHoldsIsNoReasonToChooseOneButPromptSpeedIs) {
  // Both hold the same beginning (a shared system prompt): equal, whichever holds it.
  PrefixFleet f({resident(0, 4), resident(0, 4)});
  auto shared = std::make_shared<PrefixKey>(*f.key);
  shared->blocks.resize(shared->blocks.size() / 2);
  f.index.record("n0", "m:latest", *shared, 4, minutes(5), T0);
  f.index.record("n1", "m:latest", *shared, 4, minutes(5), T0);
  auto d = f.route_it();
  ASSERT_EQ(d.candidates.size(), 2u);
  EXPECT_EQ(d.candidates[0].parts.prefix, d.candidates[1].parts.prefix);
  EXPECT_EQ(d.candidates[0].prefix_tokens, f.key->tokens() / 2);
  // n1 is ten times slower at prompts: the half it lacks takes it ten times longer.
  f.s.nodes[0].live->prefill_tps = 1000;
  f.s.nodes[1].live->prefill_tps = 100;
  d = f.route_it();
  EXPECT_EQ(d.ranked.front(), 0u);
  EXPECT_NEAR(d.candidates.back().parts.prefix, 0.1, 1e-9);
}

TEST(PrefixScorer, ANodeNotMeasuredYetIsTakenAsQuickAsTheQuickestMeasured) {
  PrefixFleet f({resident(0, 4), resident(0, 4)});
  f.s.nodes[0].live->prefill_tps = 20'000;  // n1 has served no long prompt yet
  auto d = f.route_it();
  EXPECT_EQ(d.candidates[0].parts.prefix, d.candidates[1].parts.prefix);
}

TEST(PrefixScorer, EvictingAnotherConversationCountsAgainstANode) {
  // Two idle nodes of one slot each, neither holding this prompt; n0's slot holds another
  // conversation, n1's nothing: n1 takes it.
  PrefixFleet f({resident(0, 1), resident(0, 1)});
  auto other = chat({{"user", text(8000, 'o')}});
  f.index.record("n0", "m:latest", other, 1, minutes(5), T0);
  auto d = f.route_it();
  EXPECT_EQ(d.ranked.front(), 1u);
  EXPECT_GT(d.candidates.front().parts.prefix, d.candidates.back().parts.prefix);
}

TEST(PrefixScorer, AFullNodeLosesWhenTheWaitCostsMoreThanItsCacheSaves) {
  // 4,000 tokens at the default 1,000/s: 4 s saved. n1 is full (2 of 2) and its requests take 10 s.
  PrefixFleet f({resident(0, 2), resident(2, 2)});
  f.s.nodes[1].live->duration_ms = 10'000;
  f.index.record("n1", "m:latest", *f.key, 2, minutes(5), T0);
  auto d = f.route_it();
  EXPECT_EQ(d.ranked.front(), 0u);
  EXPECT_NE(d.reason.find("prefix match 4,000 tokens (100%) on n1, but it is full: the wait there makes n0 quicker"),
            std::string::npos) << d.reason;
  EXPECT_EQ(pick_free_candidate(f.s, d, 0), std::optional<std::size_t>(0));
  // Quick requests there (1 s each: ~0.5 s to wait for a slot): worth waiting for.
  f.s.nodes[1].live->duration_ms = 1'000;
  d = f.route_it();
  EXPECT_EQ(d.ranked.front(), 1u);
  EXPECT_TRUE(d.candidates.front().prefix_worth_waiting);
  EXPECT_NEAR(d.candidates.front().prefix_saved_s, 4.0, 1e-9);
  EXPECT_FALSE(pick_free_candidate(f.s, d, 0));  // admission queues it for n1
  // The idle node is quick at prompts (10,000 tokens/s): 0.4 s for the whole prompt beats the wait.
  f.s.nodes[0].live->prefill_tps = 10'000;
  d = f.route_it();
  EXPECT_EQ(d.ranked.front(), 0u);
}

TEST(PrefixScorer, AnUnloadedModelHasNoCacheAndSessionsPinSoftly) {
  PrefixFleet f({resident(0, 4), {.models = {M}, .slots = 4, .vram_gb = 24, .vram_free_gb = 20}});
  f.index.record("n1", "m:latest", *f.key, 4, minutes(5), T0);  // n1 no longer holds the model
  auto d = f.route_it();
  EXPECT_EQ(d.ranked.front(), 0u);
  EXPECT_EQ(d.candidates.back().prefix_tokens, 0u);

  // A session pinned to the busier of two resident nodes stays there while it has a free slot...
  PrefixFleet g({resident(0, 4), resident(3, 4)}, 10);
  RouteRequest r = g.request();
  r.session = "chat-7";
  r.session_node = "n1";
  ScriptedRandom random({1, 2, 3, 4});
  d = route(g.s, r, random);
  EXPECT_EQ(d.ranked.front(), 1u);
  EXPECT_NE(d.reason.find("session chat-7 stays on n1"), std::string::npos) << d.reason;
  // ... and moves when that node is full.
  g.s.nodes[1].live->in_flight = 4;
  d = route(g.s, r, random);
  EXPECT_EQ(d.ranked.front(), 0u);
  EXPECT_NE(d.reason.find("session chat-7 moved from n1 (it is full)"), std::string::npos) << d.reason;
}
