// The semantic tier's pure parts: which requests are single-turn questions and what their
// scope is, and the index's nearest-neighbour search within a scope.
#include "memory/semantic.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

using namespace hydra::memory;
namespace json = boost::json;

namespace {

std::optional<SemanticQuestion> question(const char* body, Family f = Family::chat, std::string_view ns = "") {
  static json::object o;
  o = json::parse(body).as_object();
  return semantic_question({f, "m:latest", "sha256:aa", ns, &o});
}

}  // namespace

TEST(SemanticQuestion, OnlySingleTurnTextQuestionsAndTheirScopeIsEverythingButTheWording) {
  auto a = question(R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"Why is the sky blue?"}],"options":{"temperature":0}})");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->text, "Why is the sky blue?");
  auto b = question(R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"why's the sky blue"}],"options":{"temperature":0}})");
  ASSERT_TRUE(b);
  EXPECT_EQ(a->scope, b->scope);  // only the wording differs
  auto other_system = question(R"({"messages":[{"role":"system","content":"be long"},{"role":"user","content":"Why is the sky blue?"}],"options":{"temperature":0}})");
  EXPECT_NE(a->scope, other_system->scope);
  auto other_options = question(R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"Why is the sky blue?"}],"options":{"temperature":0,"num_predict":5}})");
  EXPECT_NE(a->scope, other_options->scope);
  auto other_tenant = question(R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"Why is the sky blue?"}],"options":{"temperature":0}})",
                               Family::chat, "team");
  EXPECT_NE(a->scope, other_tenant->scope);
  EXPECT_EQ(question(R"({"prompt":"hello","options":{"seed":1}})", Family::generate)->text, "hello");

  // Not single-turn questions:
  EXPECT_FALSE(question(R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]})"));
  EXPECT_FALSE(question(R"({"messages":[{"role":"user","content":"a","images":["x"]}]})"));
  EXPECT_FALSE(question(R"({"messages":[{"role":"user","content":"a"}],"tools":[]})"));
  EXPECT_FALSE(question(R"({"prompt":"a","context":[1,2]})", Family::generate));
  EXPECT_FALSE(question(R"({"prompt":""})", Family::generate));
  EXPECT_FALSE(question(R"({"input":"a"})", Family::embed));
}

TEST(SemanticIndex, NearestAboveTheThresholdWithinTheScopeAndBounded) {
  SemanticIndex index(3);
  index.add("s1", "k-sky", "m:latest", {1.0f, 0.0f, 0.0f});
  index.add("s1", "k-sea", "m:latest", {0.0f, 2.0f, 0.0f});  // normalised on the way in
  index.add("s2", "k-other-scope", "m:latest", {1.0f, 0.0f, 0.0f});
  auto m = index.nearest("s1", {0.99f, 0.1f, 0.0f}, 0.95);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->key, "k-sky");
  EXPECT_GT(m->similarity, 0.99);
  EXPECT_FALSE(index.nearest("s1", {0.7f, 0.7f, 0.0f}, 0.95));  // between the two: neither is close enough
  EXPECT_EQ(index.nearest("s2", {1.0f, 0.0f, 0.0f}, 0.95)->key, "k-other-scope");
  EXPECT_FALSE(index.nearest("s3", {1.0f, 0.0f, 0.0f}, 0.5));
  EXPECT_FALSE(index.nearest("s1", {0.0f, 0.0f, 0.0f}, 0.5));  // no direction at all
  index.add("s1", "k-new", "n:latest", {0.0f, 0.0f, 1.0f});    // a fourth: the oldest goes
  EXPECT_EQ(index.size(), 3u);
  EXPECT_FALSE(index.nearest("s1", {1.0f, 0.0f, 0.0f}, 0.95));
  EXPECT_EQ(index.erase("n:latest"), 1u);
  EXPECT_EQ(index.size(), 2u);
}
