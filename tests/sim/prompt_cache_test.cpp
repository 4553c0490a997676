// The sim's prompt cache: the pure slot choice, then over HTTP (a conversation's second turn
// evaluates only what is new; an unload loses the cache).
#include "sim/prompt_cache.hpp"
#include "support/sim_harness.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::test;
namespace json = boost::json;

namespace {

sim::Tokens tokens(std::string_view role, std::string_view text) {
  sim::Tokens t;
  sim::append_tokens(t, role, text);
  return t;
}

}  // namespace

TEST(SimPromptCache, TokensAreWordsAndTheRoleMarksTheFirst) {
  EXPECT_EQ(tokens("user", "  one two\nthree ").size(), 3u);
  EXPECT_NE(tokens("user", "hi there")[0], tokens("assistant", "hi there")[0]);
  EXPECT_EQ(tokens("user", "hi there")[1], tokens("assistant", "hi there")[1]);
  EXPECT_TRUE(tokens("user", " \n").empty());
}

TEST(SimPromptCache, TakesTheFreeSlotWithTheLongestPrefix) {
  sim::PromptCache cache(3);
  const auto a = tokens("user", "a b c d e f");
  const auto b = tokens("user", "x y z");
  auto first = cache.take(a);
  EXPECT_EQ(first.reused, 0u);
  cache.give_back(first.slot, a);
  auto second = cache.take(b);
  EXPECT_NE(second.slot, first.slot);  // nothing shared: a slot that caches nothing (least recently used)
  cache.give_back(second.slot, b);
  auto again = cache.take(tokens("user", "a b c d q"));
  EXPECT_EQ(again.slot, first.slot);
  EXPECT_EQ(again.reused, 4u);
  // That slot is busy now: the same prompt again finds nothing shared in the others.
  auto busy = cache.take(a);
  EXPECT_NE(busy.slot, first.slot);
  EXPECT_EQ(busy.reused, 0u);
  cache.give_back(again.slot, a);
  cache.give_back(busy.slot, {});
  cache.clear();
  EXPECT_EQ(cache.take(a).reused, 0u);
}

namespace {

// Two conversations sharing a system prompt, the first served then the second taken: the slots.
struct TwoConversations {
  sim::Tokens one = tokens("system", "be brief"), two = one;
  sim::PromptCache::Taken a, b;
  explicit TwoConversations(sim::PromptCache& cache) {
    sim::append_tokens(one, "user", "first conversation");
    sim::append_tokens(two, "user", "second conversation");
    a = cache.take(one);
    cache.give_back(a.slot, one);
    b = cache.take(two);
  }
};

}  // namespace

TEST(SimPromptCache, ByDefaultASharedSystemPromptTakesTheSameSlot) {
  sim::PromptCache cache(2);
  auto [one, two, a, b] = TwoConversations(cache);
  EXPECT_EQ(b.slot, a.slot);  // the longest prefix: the first conversation's slot, now lost
  EXPECT_EQ(b.reused, 2u);
  cache.give_back(b.slot, two);
  EXPECT_EQ(cache.take(one).reused, 2u);
}

TEST(SimPromptCache, MultiUserKeepsConversationsInTheirOwnSlots) {
  sim::PromptCache cache(2, /*multiuser=*/true);
  auto [one, two, a, b] = TwoConversations(cache);
  EXPECT_NE(b.slot, a.slot);  // the oldest free slot, with the shared system prompt copied in
  EXPECT_EQ(b.reused, 2u);
  cache.give_back(b.slot, two);
  auto next = one;  // the first conversation's next turn: its whole slot begins it
  sim::append_tokens(next, "user", "and then");
  auto c = cache.take(next);
  EXPECT_EQ(c.slot, a.slot);
  EXPECT_EQ(c.reused, one.size());
}

TEST(SimPromptCache, AllSlotsBusyTakesNone) {
  sim::PromptCache cache(1);
  EXPECT_EQ(cache.take({}).slot, 0);
  EXPECT_EQ(cache.take({}).slot, -1);
}

namespace {

sim::NodeConfig cache_config() {
  sim::NodeConfig c;
  c.name = "kv";
  c.models = {{"llama3.2:3b", 2.0}};
  c.loaded = {"llama3.2:3b"};
  c.tokens_per_second = 1000;
  c.prompt_tokens_per_second = 20000;
  c.load_seconds = 0.01;
  c.parallel = 2;
  return c;
}

std::string words(int n, const char* stem) {
  std::string out;
  for (int i = 0; i < n; ++i) out += fmt::format("{}{} ", stem, i);
  return out;
}

// One chat turn; the final chunk.
json::object chat(const SimHarness& sim, const json::array& messages, const char* keep_alive = nullptr) {
  json::object body{{"model", "llama3.2:3b"}, {"messages", messages}, {"stream", false}};
  if (keep_alive) body["keep_alive"] = keep_alive;
  auto r = post(sim.endpoint(), "/api/chat", json::serialize(body));
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body).as_object();
}

int64_t evaluated(const json::object& reply) { return reply.at("prompt_eval_count").to_number<int64_t>(); }

}  // namespace

TEST(SimPromptCache, TheSecondTurnEvaluatesOnlyWhatIsNew) {
  SimHarness sim(cache_config());
  json::array messages{json::object{{"role", "system"}, {"content", words(300, "sys")}},
                       json::object{{"role", "user"}, {"content", words(200, "doc")}}};
  auto first = chat(sim, messages);
  EXPECT_EQ(evaluated(first), 501);  // 500 words and the start token
  messages.push_back(json::object{{"role", "assistant"}, {"content", first.at("message").at("content")}});
  messages.push_back(json::object{{"role", "user"}, {"content", "and then what happened"}});
  auto second = chat(sim, messages);
  // The reply was cached too: only the new question (4 words) and the start token are new.
  EXPECT_EQ(evaluated(second), 5);
  auto stats = sim.stats();
  EXPECT_EQ(stats.at("prompt_tokens_evaluated").to_number<int64_t>(), 506);
  EXPECT_GT(stats.at("prompt_tokens_reused").to_number<int64_t>(), 500);

  // Another conversation with the same system prompt shares that much (the other slot was free
  // and cached nothing, but the first slot shares more: it is taken).
  json::array other{json::object{{"role", "system"}, {"content", words(300, "sys")}},
                    json::object{{"role", "user"}, {"content", words(50, "other")}}};
  EXPECT_EQ(evaluated(chat(sim, other)), 51);
}

TEST(SimPromptCache, AnUnloadLosesTheCache) {
  SimHarness sim(cache_config());
  json::array messages{json::object{{"role", "user"}, {"content", words(100, "w")}}};
  EXPECT_EQ(evaluated(chat(sim, messages)), 101);
  EXPECT_EQ(evaluated(chat(sim, messages)), 1);
  // keep_alive 0 with no messages unloads the model; the next request loads it cold.
  chat(sim, json::array{}, "0");
  EXPECT_EQ(evaluated(chat(sim, messages)), 101);
}

TEST(SimPromptCache, GenerateCachesSystemAndPrompt) {
  SimHarness sim(cache_config());
  const std::string body = json::serialize(json::object{
      {"model", "llama3.2:3b"}, {"system", words(40, "s")}, {"prompt", words(60, "p")}, {"stream", false}});
  auto first = json::parse(post(sim.endpoint(), "/api/generate", body).body).as_object();
  EXPECT_EQ(evaluated(first), 101);
  auto second = json::parse(post(sim.endpoint(), "/api/generate", body).body).as_object();
  EXPECT_EQ(evaluated(second), 1);
}
