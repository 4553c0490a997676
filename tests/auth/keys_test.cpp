// API keys: parsing [[auth.keys]], constant-time lookup by SHA-256, model globs, new keys.
#include "auth/keys.hpp"

#include <gtest/gtest.h>

using namespace hydra::auth;

namespace {

std::string key_toml(const std::string& name, const std::string& secret, const std::string& extra = "") {
  return "[[auth.keys]]\nname = \"" + name + "\"\nsha256 = \"" + to_hex(sha256(secret)) + "\"\n" + extra;
}

}  // namespace

TEST(Keys, Sha256MatchesTheStandardTestVector) {
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(from_hex(to_hex(sha256("abc"))), sha256("abc"));
  EXPECT_FALSE(from_hex("xyz"));
  EXPECT_FALSE(from_hex(std::string(64, 'g')));
}

TEST(Keys, ParsesEveryFieldAndFindsTheKeyByItsSecret) {
  auto keys = parse_keys(key_toml("team-a", "secret-a",
                                  "models = [\"llama3.2:*\", \"qwen3:14b\"]\nrpm = 30\ntpm = 1000\n"
                                  "max_concurrent = 2\nmax_priority = 3\n") +
                             "[[auth.keys]]\nname = \"ops\"\nsha256 = \"" + to_hex(sha256("secret-b")) +
                             "\"\nadmin = true\n",
                         "test.toml");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].name, "team-a");
  EXPECT_EQ(keys[0].rpm, 30u);
  EXPECT_EQ(keys[0].tpm, 1000u);
  EXPECT_EQ(keys[0].max_concurrent, 2u);
  EXPECT_EQ(keys[0].max_priority, 3);
  EXPECT_FALSE(keys[0].admin);
  EXPECT_TRUE(keys[1].admin);
  KeySet set{keys};
  ASSERT_NE(set.find("secret-a"), nullptr);
  EXPECT_EQ(set.find("secret-a")->name, "team-a");
  EXPECT_EQ(set.find("secret-b")->name, "ops");
  EXPECT_EQ(set.find("secret-c"), nullptr);
  EXPECT_EQ(set.find(""), nullptr);
}

TEST(Keys, ASeparateKeysFileUsesPlainKeysTables) {
  auto keys = parse_keys("[[keys]]\nname = \"k\"\nsha256 = \"" + to_hex(sha256("s")) + "\"\n", "keys.toml");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].name, "k");
}

TEST(Keys, BadDefinitionsAreRefusedWithTheFileAndKeyNamed) {
  auto error_of = [](const std::string& text) {
    try {
      parse_keys(text, "hydra.toml");
    } catch (const KeyError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("[[auth.keys]]\nsha256 = \"00\"\n").find("name is required"), std::string::npos);
  EXPECT_NE(error_of("[[auth.keys]]\nname = \"a\"\nsha256 = \"00\"\n").find("key \"a\": sha256"), std::string::npos);
  EXPECT_NE(error_of(key_toml("a", "s", "rpm = -1\n")).find("rpm"), std::string::npos);
  EXPECT_NE(error_of(key_toml("a", "s", "max_priority = 11\n")).find("max_priority"), std::string::npos);
  EXPECT_NE(error_of(key_toml("a", "s", "secret = \"x\"\n")).find("unknown field \"secret\""), std::string::npos);
  EXPECT_NE(error_of(key_toml("a b", "s")).find("name may use"), std::string::npos);
  EXPECT_NE(error_of("[auth]\nkeys = 3\n").find("array of tables"), std::string::npos);
  EXPECT_NE(error_of("[[auth.keys]\n").find("hydra.toml"), std::string::npos);
}

TEST(Keys, ModelGlobs) {
  Key k;
  EXPECT_TRUE(model_allowed(k, "anything"));  // no list: every model
  k.models = {"llama3.2:*", "qwen3:14b", "mistral"};
  EXPECT_TRUE(model_allowed(k, "llama3.2:3b"));
  EXPECT_TRUE(model_allowed(k, "qwen3:14b"));
  EXPECT_FALSE(model_allowed(k, "qwen3:1.7b"));
  EXPECT_FALSE(model_allowed(k, "llama3.1:8b"));
  EXPECT_TRUE(model_allowed(k, "mistral"));
  k.models = {"llama3.2:latest"};
  EXPECT_TRUE(model_allowed(k, "llama3.2"));  // the untagged name is :latest
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a*b*c", "a-x-b-y-c"));
  EXPECT_FALSE(glob_match("a*b*c", "a-x-b-y-d"));
  EXPECT_FALSE(glob_match("", "x"));
}

TEST(Keys, NewSecretsAreRandomAndTheirBlockReadsBack) {
  std::string a = new_secret(), b = new_secret();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 4u + 43u);
  EXPECT_TRUE(a.starts_with("hyd_"));
  auto keys = parse_keys(toml_block("ci", a, true), "block");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys[0].admin);
  KeySet set{keys};
  EXPECT_EQ(set.find(a)->name, "ci");
  EXPECT_EQ(set.find(b), nullptr);
}

TEST(Keys, EqualSecretComparesWholeStrings) {
  EXPECT_TRUE(equal_secret("token", "token"));
  EXPECT_FALSE(equal_secret("token", "tokem"));
  EXPECT_FALSE(equal_secret("token", "token2"));
  EXPECT_FALSE(equal_secret("", "x"));
}
