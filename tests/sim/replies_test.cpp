#include "sim/replies.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <numeric>

using namespace hydra::sim;

namespace {
std::string join(const std::vector<std::string>& tokens) {
  return std::accumulate(tokens.begin(), tokens.end(), std::string());
}
double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += a[i] * b[i];
  return dot;  // both are unit length
}
}  // namespace

TEST(Replies, DeterministicAndStartWithTheNodeName) {
  ReplyBook book;
  auto a = book.reply("node-a", "m:1b", "hello", 0);
  auto again = book.reply("node-a", "m:1b", "hello", 0);
  EXPECT_EQ(a.tokens, again.tokens);
  EXPECT_EQ(join(a.tokens).rfind("node-a:", 0), 0u);
  EXPECT_NE(join(book.reply("node-b", "m:1b", "hello", 0).tokens), join(a.tokens));
  EXPECT_NE(join(book.reply("node-a", "m:1b", "other prompt", 0).tokens), join(a.tokens));
  EXPECT_NE(join(book.reply("node-a", "m:1b", "hello", 1).tokens), join(a.tokens));
  EXPECT_GE(a.tokens.size(), 10u);
  // After the name, the words depend on model, prompt and seed only: any node says the same.
  const std::string b = join(book.reply("node-b", "m:1b", "hello", 0).tokens);
  EXPECT_EQ(b.substr(b.find(':')), join(a.tokens).substr(join(a.tokens).find(':')));
}

TEST(Replies, APartialAnswerGoesOnWithExactlyTheRest) {
  ReplyBook book;
  const Reply a = book.reply("a", "m", "hello", 0), b = book.reply("b", "m", "hello", 0);
  const std::string whole = join(a.tokens);
  for (std::size_t cut = 1; cut < a.tokens.size(); ++cut) {
    std::string partial;
    for (std::size_t i = 0; i < cut; ++i) partial += a.tokens[i];
    // The same node, and another one (whose own reply starts with its own name).
    auto same = rest_after(a, partial, false);
    ASSERT_TRUE(same);
    EXPECT_EQ(partial + join(*same), whole);
    EXPECT_EQ(same->size(), a.tokens.size() - cut);
    auto other = rest_after(b, partial, true);
    ASSERT_TRUE(other) << partial;
    EXPECT_EQ(partial + join(*other), whole);
  }
  // Cut inside a token: the first token that comes is the rest of it.
  auto mid = rest_after(a, whole.substr(0, whole.size() - 1), false);
  ASSERT_TRUE(mid);
  EXPECT_EQ(join(*mid), whole.substr(whole.size() - 1));
  // Not how this reply starts.
  EXPECT_FALSE(rest_after(a, "a: something else entirely", true));
  EXPECT_FALSE(rest_after(b, "a", false));  // a bare name only where the caller allows it
}

TEST(Replies, ScriptObjectFormMatchesByRegex) {
  auto book = ReplyBook::from_json_text(R"({"^decompose": "[1,2]", "weather": "sunny today"})");
  EXPECT_EQ(join(book.reply("n", "m", "decompose this task", 0).tokens), "[1,2]");
  EXPECT_EQ(join(book.reply("n", "m", "what is the weather", 0).tokens), "sunny today");
  EXPECT_EQ(join(book.reply("n", "m", "nothing", 0).tokens).rfind("n:", 0), 0u);
}

TEST(Replies, ScriptListFormWithModelFilterAndRate) {
  auto book = ReplyBook::from_json_text(
      R"([{"match": "code", "model": "coder", "reply": "def f(): pass", "tokens_per_second": 5},
          {"match": "code", "reply": "plain"}])");
  auto coder = book.reply("n", "qwen2.5-coder:7b", "write code", 0);
  EXPECT_EQ(join(coder.tokens), "def f(): pass");
  EXPECT_EQ(coder.tokens_per_second, 5.0);
  EXPECT_EQ(join(book.reply("n", "llama3:8b", "write code", 0).tokens), "plain");
}

TEST(Replies, ScriptedToolCallsWithOrWithoutWords) {
  auto book = ReplyBook::from_json_text(
      R"([{"match": "weather", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
          {"match": "time", "reply": "noon", "tool_calls": [{"name": "get_time"}]}])");
  auto weather = book.reply("n", "m", "the weather in Paris", 0);
  ASSERT_EQ(weather.tool_calls.size(), 1u);
  EXPECT_EQ(weather.tool_calls[0].name, "get_weather");
  EXPECT_EQ(weather.tool_calls[0].arguments, R"({"city":"Paris"})");
  // No "reply": the node's own words, for a request that does not offer the tool.
  EXPECT_EQ(join(weather.tokens), join(ReplyBook().reply("n", "m", "the weather in Paris", 0).tokens));
  EXPECT_EQ(join(weather.tokens).rfind("n:", 0), 0u);
  auto time = book.reply("n", "m", "what time is it", 0);
  EXPECT_EQ(join(time.tokens), "noon");
  EXPECT_EQ(time.tool_calls[0].arguments, "{}");
  EXPECT_TRUE(book.reply("n", "m", "nothing", 0).tool_calls.empty());
}

TEST(Replies, BadScriptsAreReadableErrors) {
  EXPECT_THROW(ReplyBook::from_json_text(R"([{"match": "x", "tool_calls": []}])"), std::runtime_error);
  EXPECT_THROW(ReplyBook::from_json_text(R"([{"match": "x", "tool_calls": [{"arguments": {}}]}])"), std::runtime_error);
  EXPECT_THROW(ReplyBook::from_json_text(R"([{"match": "x", "tool_calls": [{"name": "f", "arguments": "[]"}]}])"),
               std::runtime_error);
  EXPECT_THROW(ReplyBook::from_json_text("{"), std::runtime_error);
  EXPECT_THROW(ReplyBook::from_json_text(R"({"(": "x"})"), std::runtime_error);
  EXPECT_THROW(ReplyBook::from_json_text(R"([{"match": "x"}])"), std::runtime_error);
}

TEST(Replies, TokenizeKeepsLeadingSpaces) {
  auto t = tokenize("one two  three");
  EXPECT_EQ(join(t), "one two  three");
  EXPECT_EQ(t.front(), "one");
  EXPECT_EQ(t[1], " two");
}

TEST(Embeddings, UnitLengthAndSimilarTextsAreCloser) {
  auto cat = embed("the cat sat on the mat");
  auto cat2 = embed("a cat sat on a mat");
  auto stock = embed("quarterly revenue rose sharply");
  double norm = std::sqrt(cosine(cat, cat));
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_GT(cosine(cat, cat2), cosine(cat, stock) + 0.2);
  EXPECT_EQ(embed("same text"), embed("same text"));
}
