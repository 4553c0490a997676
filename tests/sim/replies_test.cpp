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
  EXPECT_GE(a.tokens.size(), 10u);
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

TEST(Replies, BadScriptsAreReadableErrors) {
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
