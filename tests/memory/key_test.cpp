// The cache key field by field: everything that changes the answer changes the key, nothing
// else does. And the policy: which requests may use the cache, and what their headers ask.
#include "memory/key.hpp"
#include "memory/policy.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

using namespace hydra::memory;
namespace json = boost::json;

namespace {

std::string key(const std::string& body, Family f = Family::chat, std::string_view model = "m:latest",
                std::string_view digest = "sha256:aa", std::string_view ns = "") {
  json::object o = json::parse(body).as_object();
  return key_of({f, model, digest, ns, &o});
}

const std::string kBase =
    R"({"model":"m","messages":[{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.9},"stream":true})";

}  // namespace

TEST(CacheKey, FieldsThatDoNotChangeTheAnswerAreLeftOut) {
  const std::string k = key(kBase);
  EXPECT_EQ(k.size(), 64u);
  // stream, keep_alive and the model as spelled (it is keyed normalised) do not count.
  EXPECT_EQ(k, key(R"({"model":"m:latest","messages":[{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.9},"stream":false,"keep_alive":"5m"})"));
  // Neither do the order of fields nor 0 written as 0.0.
  EXPECT_EQ(k, key(R"({"options":{"top_p":0.9,"temperature":0.0},"messages":[{"images":["aGVsbG8="],"content":"hi","role":"user"}]})"));
}

TEST(CacheKey, EveryFieldThatChangesTheAnswerChangesTheKey) {
  const std::string k = key(kBase);
  const std::vector<std::string> others = {
      R"({"messages":[{"role":"user","content":"hi!","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.9}})",
      R"({"messages":[{"role":"user","content":"hi","images":["aGVsbG9v"]}],"options":{"temperature":0,"top_p":0.9}})",
      R"({"messages":[{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.8}})",
      R"({"messages":[{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.9,"seed":1}})",
      R"({"messages":[{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.9,"num_predict":5}})",
      R"({"messages":[{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.9,"stop":["x"]}})",
      R"({"messages":[{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.9},"format":"json"})",
      R"({"messages":[{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.9},"think":true})",
      R"({"messages":[{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.9},"tools":[{"type":"function"}]})",
      R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi","images":["aGVsbG8="]}],"options":{"temperature":0,"top_p":0.9}})",
  };
  for (const auto& body : others) EXPECT_NE(k, key(body)) << body;
  EXPECT_NE(k, key(kBase, Family::generate));
  EXPECT_NE(k, key(kBase, Family::chat, "other:latest"));
  EXPECT_NE(k, key(kBase, Family::chat, "m:latest", "sha256:bb"));   // the model was pulled again
  EXPECT_NE(k, key(kBase, Family::chat, "m:latest", "sha256:aa", "team"));  // another tenant
}

TEST(CacheKey, ImagesAreKeyedByTheirHashNotCarried) {
  json::object o = json::parse(kBase).as_object();
  const std::string text = canonical({Family::chat, "m:latest", "", "", &o});
  EXPECT_EQ(text.find("aGVsbG8="), std::string::npos);
  EXPECT_NE(text.find("sha256:"), std::string::npos);
}

TEST(CacheKey, FamiliesAndStreaming) {
  EXPECT_EQ(family_of("/api/chat"), Family::chat);
  EXPECT_EQ(family_of("/api/embed"), Family::embed);
  EXPECT_FALSE(family_of("/api/pull"));
  json::object whole = json::parse(R"({"stream":false})").as_object();
  json::object none;
  EXPECT_FALSE(wants_stream(Family::generate, whole));
  EXPECT_TRUE(wants_stream(Family::generate, none));
  EXPECT_FALSE(wants_stream(Family::embed, none));
}

TEST(CachePolicy, DeterministicOnlyWithTemperatureZeroOrASeedAndAlwaysForEmbeddings) {
  auto body = [](const char* text) { return json::parse(text).as_object(); };
  EXPECT_EQ(why_not_cacheable(Mode::deterministic, Family::chat, body(R"({"messages":[{"role":"user","content":"x"}],"options":{"temperature":0}})")), "");
  EXPECT_EQ(why_not_cacheable(Mode::deterministic, Family::chat, body(R"({"messages":[{"role":"user","content":"x"}],"options":{"seed":42,"temperature":0.8}})")), "");
  EXPECT_NE(why_not_cacheable(Mode::deterministic, Family::chat, body(R"({"messages":[{"role":"user","content":"x"}],"options":{"temperature":0.7}})")), "");
  EXPECT_NE(why_not_cacheable(Mode::deterministic, Family::generate, body(R"({"prompt":"x"})")), "");
  EXPECT_EQ(why_not_cacheable(Mode::deterministic, Family::embed, body(R"({})")), "");
  EXPECT_EQ(why_not_cacheable(Mode::always, Family::generate, body(R"({"prompt":"x"})")), "");
  EXPECT_NE(why_not_cacheable(Mode::off, Family::embed, body(R"({})")), "");
  // Loads and unloads reach a node whatever the mode.
  EXPECT_NE(why_not_cacheable(Mode::always, Family::generate, body(R"({"prompt":""})")), "");
  EXPECT_NE(why_not_cacheable(Mode::always, Family::chat, body(R"({"messages":[]})")), "");
  EXPECT_NE(why_not_cacheable(Mode::always, Family::chat, body(R"({"messages":[{"role":"user","content":"x"}],"keep_alive":0})")), "");
  EXPECT_NE(why_not_cacheable(Mode::always, Family::generate, body(R"({"prompt":"x","keep_alive":"0s"})")), "");
  EXPECT_EQ(why_not_cacheable(Mode::always, Family::generate, body(R"({"prompt":"x","keep_alive":"10m"})")), "");
  EXPECT_EQ(parse_mode("always"), Mode::always);
  EXPECT_FALSE(parse_mode("sometimes"));
  // Without a seed or temperature among the options, deterministic mode never keeps the answer:
  // names_sampling() says so from the parsed tree.
  for (const char* text : {R"({"prompt":"x"})", R"({"prompt":"temperature seed"})", R"({"options":{"num_predict":1}})",
                           R"({"options":"seed"})", R"({"seed":1})"}) {
    EXPECT_FALSE(names_sampling(body(text))) << text;
    EXPECT_NE(why_not_cacheable(Mode::deterministic, Family::generate, body(text)), "") << text;
  }
  EXPECT_TRUE(names_sampling(body(R"({"options":{"seed":7}})")));
  EXPECT_TRUE(names_sampling(body(R"({"options":{"temperature":0.9}})")));
}

TEST(CachePolicy, RequestHeaders) {
  auto p = request_policy("", "");
  EXPECT_TRUE(p.read && p.write && !p.ttl_s && p.error.empty());
  p = request_policy("No-Cache", "");
  EXPECT_FALSE(p.read);
  EXPECT_TRUE(p.write);
  p = request_policy("max-age=0, no-store", "");
  EXPECT_FALSE(p.read || p.write);
  p = request_policy("", "60");
  EXPECT_EQ(p.ttl_s, 60);
  EXPECT_NE(request_policy("", "soon").error, "");
  EXPECT_NE(request_policy("", "-1").error, "");
  EXPECT_NE(request_policy("", "60s").error, "");
}
