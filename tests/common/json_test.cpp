#include "common/json.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <optional>

using namespace hydra;

TEST(JsonBody, EmptyBodyIsMissing) {
  auto r = parse_json_object("  ");
  ASSERT_TRUE(std::holds_alternative<JsonError>(r));
  EXPECT_EQ(std::get<JsonError>(r).message, "missing request body");
}

TEST(JsonBody, SyntaxErrorAndNonObject) {
  EXPECT_TRUE(std::holds_alternative<JsonError>(parse_json_object("{bad")));
  EXPECT_TRUE(std::holds_alternative<JsonError>(parse_json_object("[1,2]")));
}

TEST(FieldReader, TypedFieldsAndFirstError) {
  auto parsed = parse_json_object(R"({"model":"m","stream":false,"n":3,"x":null,"bad":"str"})");
  auto& obj = std::get<boost::json::object>(parsed);
  FieldReader r(obj);
  EXPECT_EQ(r.string("model"), "m");
  EXPECT_EQ(r.boolean("stream"), false);
  EXPECT_EQ(r.integer("n"), 3);
  EXPECT_FALSE(r.string("x"));       // null counts as absent
  EXPECT_FALSE(r.string("missing"));
  EXPECT_FALSE(r.error);
  EXPECT_FALSE(r.integer("bad"));
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->message.find("\"bad\""), std::string::npos);
}

TEST(Json, CappedParseCutsLongStringsAndKeepsEverythingElse) {
  const std::string big(100'000, 'x');
  const std::string body = R"({"model":"m","images":[")" + big + R"("],"options":{"num_ctx":8192,"t":0.5},"ok":true,"k":null})";
  auto parsed = parse_json_object_capped(body, 1024);
  ASSERT_TRUE(std::holds_alternative<boost::json::object>(parsed));
  const auto& o = std::get<boost::json::object>(parsed);
  EXPECT_EQ(o.at("model"), "m");
  EXPECT_EQ(o.at("images").at(0).as_string().size(), 1024u);
  EXPECT_EQ(o.at("options").at("num_ctx"), 8192);
  EXPECT_EQ(o.at("options").at("t"), 0.5);
  EXPECT_EQ(o.at("ok"), true);
  EXPECT_TRUE(o.at("k").is_null());
  // Short strings and escapes are kept whole.
  auto esc = parse_json_object_capped(R"({"a":"line\nbreak \u00e9"})", 1024);
  EXPECT_EQ(std::get<boost::json::object>(esc).at("a"), "line\nbreak \u00e9");
  // A cut inside escaped text keeps the first `cap` bytes of the decoded string.
  auto cut = parse_json_object_capped(R"({"a":"ab\ncd"})", 3);
  EXPECT_EQ(std::get<boost::json::object>(cut).at("a"), "ab\n");
  // The same errors as the uncapped parse.
  for (const char* bad : {"  ", "{bad", "[1,2]", "{} x", R"({"a":1)"}) {
    auto capped = parse_json_object_capped(bad, 16);
    auto whole = parse_json_object(bad);
    ASSERT_TRUE(std::holds_alternative<JsonError>(capped)) << bad;
    EXPECT_EQ(std::get<JsonError>(capped).message, std::get<JsonError>(whole).message) << bad;
  }
}

TEST(Json, AddNumbersSumsNestedFiguresAndKeepsTheRest) {
  boost::json::object a = boost::json::parse(R"({"n":1,"x":{"y":2.5,"z":"keep"},"only_a":3})").as_object();
  boost::json::object b = boost::json::parse(R"({"n":2,"x":{"y":1,"z":"other","w":4},"only_b":5})").as_object();
  add_numbers(a, b);
  EXPECT_EQ(a.at("n").as_int64(), 3);
  EXPECT_DOUBLE_EQ(a.at("x").at("y").as_double(), 2.5);  // a fraction: a mean, not a count
  EXPECT_EQ(a.at("x").at("z").as_string(), "keep");
  EXPECT_EQ(a.at("x").at("w").as_int64(), 4);
  EXPECT_EQ(a.at("only_a").as_int64(), 3);
  EXPECT_EQ(a.at("only_b").as_int64(), 5);
}

// A model request's tree in its arena: a big one outgrows the arena's first block, the tree and
// the model survive a move of the whole (as handlers return it), and errors are the plain ones.
TEST(ModelBody, TreeInItsArenaOutgrowsTheFirstBlockAndMovesWhole) {
  std::string body = R"({"model":"llama3.2:3b","prompt":")" + std::string(5000, 'p') + R"(","options":{)";
  for (int i = 0; i < 100; ++i) body += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":" + std::to_string(i);
  body += R"(},"messages":[{"role":"user","content":"hi"}]})";
  auto parsed = parse_model_body(body, "model");
  ASSERT_TRUE(std::holds_alternative<ModelBody>(parsed));
  std::optional<ModelBody> moved(std::move(std::get<ModelBody>(parsed)));
  parsed = JsonError{"gone"};  // the variant's ModelBody is destroyed: the moved one owns the arena
  ASSERT_TRUE(moved->arena);
  EXPECT_EQ(moved->model, "llama3.2:3b");
  EXPECT_EQ(moved->body.at("prompt").as_string().size(), 5000u);
  EXPECT_EQ(moved->body.at("options").as_object().size(), 100u);
  EXPECT_EQ(moved->body.at("options").at("k99"), 99);
  EXPECT_EQ(moved->body.at("messages").at(0).at("content"), "hi");
  moved->body["stream"] = false;  // a change goes into the same arena
  EXPECT_EQ(moved->body.at("stream"), false);
  moved.reset();

  auto missing = parse_model_body(R"({"prompt":"hi"})", "model");
  ASSERT_TRUE(std::holds_alternative<JsonError>(missing));
  EXPECT_EQ(std::get<JsonError>(missing).message, "model is required");
  auto legacy = parse_model_body(R"({"name":"m"})", "model", "name");
  ASSERT_TRUE(std::holds_alternative<ModelBody>(legacy));
  EXPECT_EQ(std::get<ModelBody>(legacy).model, "m");
  EXPECT_TRUE(std::holds_alternative<JsonError>(parse_model_body("{bad", "model")));
}
