// What a node says is read defensively: wrong types, absurd numbers, over-long or repeated
// names never throw and never become huge figures.
#include "cluster/node_info.hpp"

#include <gtest/gtest.h>
#include <string>

using namespace hydra::cluster;

TEST(NodeInfoGarbage, WrongShapesAreNotModelLists) {
  for (const char* body : {"", "not json", "{", "[]", "null", "42", R"({"models":{}})", R"({"models":"x"})",
                           R"({"models":null})", "{\"models\":[" /* cut */})
    EXPECT_FALSE(parse_tags(body).has_value()) << body;
  // Entries of the wrong type are skipped, the others kept.
  auto tags = parse_tags(R"({"models":[1,"x",null,[],{"name":5},{"name":{"a":1}},{"name":"ok:1b","size":"big"},
                                         {"model":"also:1b","size":-5}]})");
  ASSERT_TRUE(tags.has_value());
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ((*tags)[0].name, "ok:1b");
  EXPECT_EQ((*tags)[0].size, 0u);
  EXPECT_EQ((*tags)[1].name, "also:1b");
  EXPECT_EQ((*tags)[1].size, 0u);
}

TEST(NodeInfoGarbage, AbsurdNumbersAreNotBelieved) {
  auto tags = parse_tags(R"({"models":[{"name":"a:1b","size":1e300},{"name":"b:1b","size":18446744073709551615},
                                        {"name":"c:1b","size":4000000000}]})");
  ASSERT_TRUE(tags.has_value());
  ASSERT_EQ(tags->size(), 3u);
  EXPECT_EQ((*tags)[0].size, 0u);
  EXPECT_EQ((*tags)[1].size, 0u);  // 16 EiB: no node has that
  EXPECT_EQ((*tags)[2].size, 4000000000u);

  auto ps = parse_ps(R"({"models":[{"name":"a:1b","size":18446744073709551615,"size_vram":18446744073709551615},
                                    {"name":"b:1b","size":1125899906842624,"size_vram":1125899906842624}]})");
  ASSERT_TRUE(ps.has_value());
  NodeView n;
  n.resident = *ps;
  Resources r = derive_resources(n, std::nullopt, -1, -1);
  EXPECT_EQ(r.vram_total, 1125899906842624u);  // the sane entry only, no wrap-around

  auto agent = parse_agent(R"({"gpus":[{"memory_total_mib":1e30,"memory_free_mib":-1},
                                       {"memory_total_mib":18446744073709551615},
                                       {"memory_total_mib":24576,"memory_free_mib":"lots"}],
                              "ram":{"total_mib":65536,"available_mib":1e19}})");
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->vram_total, 24576ull << 20);
  EXPECT_EQ(agent->vram_free, 0u);
  EXPECT_EQ(agent->ram_total, 65536ull << 20);
  EXPECT_EQ(agent->ram_free, 0u);
  EXPECT_TRUE(parse_agent(R"({"gpus":"many","ram":[1,2]})").has_value());  // nothing said, nothing thrown
}

TEST(NodeInfoGarbage, OverLongAndRepeatedNamesCountOnce) {
  std::string long_name(100'000, 'x');
  auto tags = parse_tags(R"({"models":[{"name":")" + long_name + R"("},{"name":"a:1b"},{"name":"a:1b"},{"name":"a"}]})");
  ASSERT_TRUE(tags.has_value());
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ((*tags)[0].name, "a:1b");
  EXPECT_EQ((*tags)[1].name, "a:latest");
}

TEST(NodeInfoGarbage, CapacityNumbersMustBeSane) {
  for (const char* text : {"http://10.0.0.5:11434#vram=nan", "http://10.0.0.5:11434#vram=inf",
                           "http://10.0.0.5:11434#ram=1e30", "http://10.0.0.5:11434#vram=-1"})
    EXPECT_FALSE(parse_node_url(text).has_value()) << text;
  auto ok = parse_node_url("http://10.0.0.5:11434#vram=24,ram=1024");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->vram_gb, 24);
}
