#include "orchestrate/roles.hpp"

#include <gtest/gtest.h>

using namespace hydra::orchestrate;
using V = std::vector<std::string>;

TEST(ParameterSize, Tags) {
  EXPECT_DOUBLE_EQ(*parameter_size_b("qwen3:14b"), 14);
  EXPECT_DOUBLE_EQ(*parameter_size_b("qwen3:1.7b"), 1.7);
  EXPECT_DOUBLE_EQ(*parameter_size_b("qwen2.5:500m"), 0.5);
  EXPECT_DOUBLE_EQ(*parameter_size_b("llama3.1:8b-instruct-q4_K_M"), 8);
  EXPECT_DOUBLE_EQ(*parameter_size_b("mixtral:8x7b"), 56);
  EXPECT_DOUBLE_EQ(*parameter_size_b("qwen3:30b-a3b"), 30);
  EXPECT_DOUBLE_EQ(*parameter_size_b("gemma3n:e2b"), 2);
  EXPECT_DOUBLE_EQ(*parameter_size_b("my-7B-model:latest"), 7);  // from the name when the tag has none
  EXPECT_FALSE(parameter_size_b("llama3.2:latest"));
  EXPECT_FALSE(parameter_size_b("mistral"));
}

TEST(ClosestModel, ExactMatchAfterNormalisation) {
  EXPECT_EQ(closest_model("llama3", {"qwen3:8b", "llama3:latest"}), "llama3:latest");
  EXPECT_EQ(closest_model("qwen3:14b", {"qwen3:8b", "qwen3:14b"}), "qwen3:14b");
}

TEST(ClosestModel, SameFamilyFirstThenNearestSize) {
  EXPECT_EQ(closest_model("qwen3:14b", {"llama3:14b", "qwen3:32b", "qwen3:8b"}), "qwen3:8b");
  EXPECT_EQ(closest_model("qwen3:1.7b", {"qwen3:8b", "qwen3:0.6b", "qwen3:4b"}), "qwen3:0.6b");
  EXPECT_EQ(closest_model("qwen2.5-coder:14b", {"qwen3:8b", "deepseek-coder:33b", "llama3:13b"}), "llama3:13b");
}

TEST(ClosestModel, SizedBeforeUnsizedAndDeterministicTies) {
  EXPECT_EQ(closest_model("qwen3:14b", {"mistral:latest", "phi3:3.8b"}), "phi3:3.8b");
  EXPECT_EQ(closest_model("qwen3:14b", {"b-model:14b", "a-model:14b"}), "a-model:14b");
  EXPECT_EQ(closest_model("custom", {"zeta:latest", "alpha:latest"}), "alpha:latest");
  EXPECT_FALSE(closest_model("qwen3:14b", {}));
  EXPECT_EQ(rank_by_closeness("qwen3:8b", {"qwen3:14b", "qwen3:8b", "llama3:8b", "qwen3:8b"}),
            (V{"qwen3:8b", "qwen3:14b", "llama3:8b"}));
}

TEST(Roles, DefaultsAndFallbacksRecorded) {
  Settings s;
  RoleModels r = resolve_roles(s, {"qwen3:14b", "qwen3:8b", "qwen2.5-coder:7b"});
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(r.of(Role::heavy), "qwen3:14b");
  EXPECT_EQ(r.of(Role::light), "qwen3:8b");
  EXPECT_EQ(r.of(Role::code), "qwen2.5-coder:7b");
  ASSERT_EQ(r.fallbacks.size(), 2u);
  EXPECT_EQ(r.fallbacks[0].role, "light");
  EXPECT_EQ(r.fallbacks[0].wanted, "qwen3:1.7b");
  EXPECT_EQ(r.fallbacks[0].used, "qwen3:8b");
  EXPECT_EQ(r.fallbacks[1].role, "code");
}

TEST(Roles, NothingAvailableIsAnError) {
  RoleModels r = resolve_roles(Settings{}, {});
  EXPECT_NE(r.error.find("no model"), std::string::npos);
}

TEST(Roles, FanoutTakesRoleModelThenExtrasThenClosest) {
  Settings s;
  s.code_extra = {"missing:7b", "codellama:13b"};
  V avail{"qwen2.5-coder:14b", "codellama:13b", "qwen3:8b", "qwen2.5-coder:7b"};
  RoleModels r = resolve_roles(s, avail);
  EXPECT_EQ(fanout_models(s, r, Role::code, 1, avail), V{"qwen2.5-coder:14b"});
  EXPECT_EQ(fanout_models(s, r, Role::code, 3, avail), (V{"qwen2.5-coder:14b", "codellama:13b", "qwen2.5-coder:7b"}));
  EXPECT_EQ(fanout_models(s, r, Role::code, 10, avail).size(), 4u);
}

TEST(Roles, RequestModelsResolveAndRotate) {
  std::vector<RoleFallback> fb;
  V m = resolve_request_models({"a:7b", "nope:7b", "b:7b", "a:7b"}, {"a:7b", "b:7b"}, fb);
  EXPECT_EQ(m, (V{"a:7b", "b:7b"}));
  ASSERT_EQ(fb.size(), 1u);
  EXPECT_EQ(fb[0].role, "request");
  EXPECT_EQ(fb[0].wanted, "nope:7b");
  EXPECT_EQ(fb[0].used, "a:7b");
  V three{"x", "y", "z"};
  EXPECT_EQ(rotate_models(three, 0, 1), V{"x"});
  EXPECT_EQ(rotate_models(three, 1, 1), V{"y"});
  EXPECT_EQ(rotate_models(three, 2, 2), (V{"z", "x"}));
  EXPECT_EQ(rotate_models(three, 0, 5).size(), 3u);
}
