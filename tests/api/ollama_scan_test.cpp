// The one-pass reading of an Ollama model request (api/ollama_scan.hpp) against its JSON tree:
// where the pass reads a request, it reads what the tree reads; where it gives up, the tree
// answers; and the requests clients send are read by the pass.
#include "api/ollama_scan.hpp"
#include "api/prefix_request.hpp"
#include "common/limits.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

using hydra::JsonError;
using hydra::api::OllamaFacts;

namespace {

// The tree's reading: an error, or the facts.
std::variant<OllamaFacts, std::string> by_tree(const std::string& body, bool texts, std::optional<hydra::ModelBody>& tree) {
  auto parsed = hydra::parse_model_body(body, "model", "name");
  if (auto* e = std::get_if<JsonError>(&parsed)) return e->message;
  tree.emplace(std::move(std::get<hydra::ModelBody>(parsed)));
  const hydra::api::OllamaFields fields(tree->body);
  if (auto e = hydra::api::check_ollama_numbers(fields)) return e->message;
  return hydra::api::facts_of(fields, tree->model, texts);
}

void expect_same(const OllamaFacts& a, const OllamaFacts& b, bool texts, const std::string& body) {
  EXPECT_EQ(a.model, b.model) << body;
  EXPECT_EQ(a.changes_residency, b.changes_residency) << body;
  EXPECT_EQ(a.names_sampling, b.names_sampling) << body;
  EXPECT_EQ(a.keep_alive.has_value(), b.keep_alive.has_value()) << body;
  if (a.keep_alive && b.keep_alive) {
    EXPECT_EQ(a.keep_alive->forever, b.keep_alive->forever) << body;
    EXPECT_EQ(a.keep_alive->duration, b.keep_alive->duration) << body;
  }
  if (!texts) return;
  EXPECT_EQ(a.prompt, b.prompt) << body;
  EXPECT_EQ(a.system, b.system) << body;
  EXPECT_EQ(a.messages_array, b.messages_array) << body;
  ASSERT_EQ(a.messages.size(), b.messages.size()) << body;
  for (std::size_t i = 0; i < a.messages.size(); ++i) {
    EXPECT_EQ(a.messages[i].role, b.messages[i].role) << body;
    EXPECT_EQ(a.messages[i].content, b.messages[i].content) << body;
  }
}

// Requests as clients send them: the pass reads every one.
const std::vector<std::string>& usual() {
  static const std::vector<std::string> bodies = {
      R"({"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":1}})",
      R"({"model":"m","prompt":"why is the sky blue?","system":"be brief","stream":true})",
      R"( { "model" : "m" , "prompt" : "" } )",
      R"({"model":"m"})",
      R"({"model":"m","prompt":"x","keep_alive":0})",
      R"({"model":"m","prompt":"x","keep_alive":"10m"})",
      R"({"model":"m","prompt":"x","keep_alive":-1})",
      R"({"model":"m","prompt":"x","keep_alive":"300"})",
      R"({"model":"m","prompt":"x","keep_alive":null})",
      R"({"model":"m","prompt":null})",
      R"({"model":"m","prompt":5,"system":7})",
      R"({"model":"m","prompt":"x","options":{"temperature":0.7,"seed":42,"top_k":40,"stop":["\n","</s>"]}})",
      R"({"model":"m","prompt":"x","options":{"num_predict":-2,"num_ctx":0,"mirostat_tau":5.0}})",
      R"({"model":"m","prompt":"x","options":{"num_predict":1e5,"num_ctx":2048.0}})",
      R"({"model":"m","prompt":"x","options":null})",
      R"({"model":"m","prompt":"x","options":{"nested":{"deep":[1,2,{"x":1e300}]}}})",
      R"({"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello"}]})",
      R"({"model":"m","messages":[]})",
      R"({"model":"m","messages":[{"content":"no role","role":"user","images":["aGk="]},"text",3,null,[1]]})",
      R"({"model":"m","messages":[{"role":"user","content":"line\none \"quoted\" caf\u00e9 \ud83d\ude00"}]})",
      R"({"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"function":{"name":"f"}}]}]})",
      R"({"model":"m","messages":{"role":"user"}})",
      R"({"model":"m","messages":"hi"})",
      R"({"model":"m","prompt":"esc\\aped \/ \t tab","system":"\u0041BC"})",
      R"({"model":"","name":"legacy"})",
      R"({"name":"legacy","input":["a","b"]})",
      R"({"model":"m","input":"embed me","truncate":true,"dimensions":3})",
      R"({"model":"m","format":{"type":"object","properties":{"a":{"type":"number"}}},"prompt":"json"})",
      R"({"mod\u0065l":"m","prompt":"escaped key"})",
      R"({"model":"m","prompt":"hi","options":{"num_ctx":131072}})",
  };
  return bodies;
}

// Requests the pass leaves to the tree: errors, and fields given twice.
const std::vector<std::string>& unusual() {
  static const std::vector<std::string> bodies = {
      "", "   ", "{bad", "[1,2]", "5", R"("model")", R"({"model":"m"} extra)", R"({"model":"m",})",
      R"({"prompt":"no model"})", R"({"model":""})", R"({"model":5})", R"({"model":["m"]})",
      R"({"model":null,"name":null})", R"({"model":"m","name":7})",
      R"({"model":"m","options":"fast"})", R"({"model":"m","options":[1]})", R"({"model":"m","options":3})",
      R"({"model":"m","options":{"num_predict":"x"}})", R"({"model":"m","options":{"num_ctx":true}})",
      R"({"model":"m","options":{"num_predict":{}}})", R"({"model":"m","options":{"top_p":1e400}})",
      R"({"model":"m","options":{"num_predict":-3}})", R"({"model":"m","options":{"num_ctx":-1}})",
      R"({"model":"m","options":{"num_ctx":1e12}})", R"({"model":"m","keep_alive":true})",
      R"({"model":"m","keep_alive":"soon"})", R"({"model":"m","keep_alive":{}})", R"({"model":"m","keep_alive":1e400})",
      R"({"model":"a","model":"b"})", R"({"model":"m","prompt":"a","prompt":""})",
      R"({"model":"m","options":{"num_predict":1,"num_predict":2}})",
      R"({"model":"m","options":{"top_k":1},"options":{"top_k":2}})",
  };
  return bodies;
}

}  // namespace

TEST(OllamaScan, ReadsWhatClientsSendAsTheTreeDoes) {
  for (bool texts : {false, true}) {
    for (const auto& body : usual()) {
      OllamaFacts scanned;
      ASSERT_TRUE(hydra::api::scan_ollama_request(body, texts, scanned)) << body;
      std::optional<hydra::ModelBody> tree;
      auto read = by_tree(body, texts, tree);
      ASSERT_TRUE(std::holds_alternative<OllamaFacts>(read)) << body << ": " << std::get<std::string>(read);
      expect_same(scanned, std::get<OllamaFacts>(read), texts, body);
    }
  }
}

TEST(OllamaScan, LeavesErrorsAndRepeatedFieldsToTheTree) {
  for (const auto& body : unusual()) {
    OllamaFacts scanned;
    EXPECT_FALSE(hydra::api::scan_ollama_request(body, true, scanned)) << body;
  }
  // The tree then answers: an error in its words, or (a field given twice) the last one.
  std::optional<hydra::ModelBody> tree;
  auto bad = by_tree(R"({"model":"m","options":{"num_ctx":-1}})", false, tree);
  ASSERT_TRUE(std::holds_alternative<std::string>(bad));
  EXPECT_NE(std::get<std::string>(bad).find("options.num_ctx"), std::string::npos);
  auto twice = by_tree(R"({"model":"a","model":"b"})", false, tree);
  ASSERT_TRUE(std::holds_alternative<OllamaFacts>(twice));
  EXPECT_EQ(std::get<OllamaFacts>(twice).model, "b");
}

TEST(OllamaScan, NamesTooLongAndNestedBodiesAreTheTreesToAnswer) {
  const std::string long_name(hydra::limits::kNameBytes + 1, 'n');
  OllamaFacts f;
  EXPECT_FALSE(hydra::api::scan_ollama_request(fmt::format(R"({{"model":"{}"}})", long_name), false, f));
  EXPECT_FALSE(hydra::api::scan_ollama_request(fmt::format(R"({{"model":"","name":"{}"}})", long_name), false, f));
  const std::string longest(hydra::limits::kNameBytes, 'n');
  ASSERT_TRUE(hydra::api::scan_ollama_request(fmt::format(R"({{"model":"{}"}})", longest), false, f));
  EXPECT_EQ(f.model, longest);
  // Deeper than the parser's limit: an error either way.
  std::string deep = R"({"model":"m","options":{"x":)";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}}";
  EXPECT_FALSE(hydra::api::scan_ollama_request(deep, false, f));
  std::optional<hydra::ModelBody> tree;
  EXPECT_TRUE(std::holds_alternative<std::string>(by_tree(deep, false, tree)));
}

// Escaped texts are kept apart from the body; they stay readable after the facts move.
TEST(OllamaScan, EscapedTextsOutliveAMove) {
  const std::string body = R"({"model":"m","prompt":"caf\u00e9 \"au lait\"","system":"plain"})";
  OllamaFacts scanned;
  ASSERT_TRUE(hydra::api::scan_ollama_request(body, true, scanned));
  OllamaFacts moved = std::move(scanned);
  EXPECT_EQ(moved.prompt, "caf\xc3\xa9 \"au lait\"");
  EXPECT_EQ(moved.system, "plain");
  EXPECT_TRUE(moved.system.data() >= body.data() && moved.system.data() < body.data() + body.size());
  EXPECT_FALSE(moved.prompt.data() >= body.data() && moved.prompt.data() < body.data() + body.size());
}

// Prefix affinity keys a prompt the same whether the pass or the tree read it.
TEST(OllamaScan, PrefixKeysAgreeWithTheTree) {
  const std::string system(100, 's'), prompt(300, 'p');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/generate", fmt::format(R"({{"model":"m","system":"{}","prompt":"{}","keep_alive":"1h"}})", system, prompt)},
      {"/api/chat", fmt::format(R"({{"model":"m","messages":[{{"role":"system","content":"{}"}},{{"role":"user","content":"{}"}}]}})",
                                system, prompt)},
  };
  for (const auto& [target, body] : cases) {
    OllamaFacts scanned;
    ASSERT_TRUE(hydra::api::scan_ollama_request(body, true, scanned));
    std::optional<hydra::ModelBody> tree;
    auto read = by_tree(body, true, tree);
    ASSERT_TRUE(std::holds_alternative<OllamaFacts>(read));
    auto a = hydra::api::prefix_of(target, scanned, body.size());
    auto b = hydra::api::prefix_of(target, std::get<OllamaFacts>(read), body.size());
    ASSERT_TRUE(a.key && b.key) << target;
    EXPECT_EQ(a.key->blocks, b.key->blocks) << target;
    EXPECT_GE(a.key->blocks.size(), 6u) << target;
    EXPECT_EQ(a.keep_alive, b.keep_alive) << target;
  }
}
