#include "common/json.hpp"

#include <gtest/gtest.h>

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
