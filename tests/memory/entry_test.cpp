// Entries: their stored form, and the shape conversions a replay makes (a stream merged into a
// whole reply, a whole reply as a one-line stream). And the in-process tier's LRU budget.
#include "memory/entry.hpp"
#include "memory/lru.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

using namespace hydra::memory;
namespace json = boost::json;

namespace {

Entry chat_stream() {
  Entry e;
  e.model = "m:latest";
  e.node = "127.0.0.1:1";
  e.streamed = true;
  e.pieces = {
      R"({"model":"m","message":{"role":"assistant","content":"Hel","thinking":"hm"},"done":false})" "\n",
      R"({"model":"m","message":{"role":"assistant","content":"lo","tool_calls":[{"function":{"name":"f"}}]},"done":false})" "\n"
      R"({"model":"m","message":{"role":"assistant","content":""},"done":true,"eval_count":2,"total_duration":5})" "\n"};
  return e;
}

}  // namespace

TEST(CacheEntry, EncodesAndDecodesAndRefusesWhatItDidNotWrite) {
  Entry e = chat_stream();
  e.created_unix_ms = 1700000000000;
  e.expires_unix_ms = 1700000060000;
  e.eval_count = 2;
  e.total_ms = 12.5;
  const std::string bytes = encode(e);
  auto back = decode(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pieces, e.pieces);
  EXPECT_EQ(back->model, e.model);
  EXPECT_EQ(back->node, e.node);
  EXPECT_TRUE(back->streamed);
  EXPECT_EQ(back->expires_unix_ms, e.expires_unix_ms);
  EXPECT_EQ(back->total_ms, 12.5);
  EXPECT_FALSE(decode("HYC1"));
  EXPECT_FALSE(decode(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(decode("garbage"));
}

TEST(CacheEntry, AStreamMergesIntoTheWholeReplyOllamaWouldHaveSent) {
  auto whole = as_whole(chat_stream(), Family::chat);
  ASSERT_TRUE(whole);
  json::object o = json::parse(*whole).as_object();
  EXPECT_EQ(o["done"], true);
  EXPECT_EQ(o["eval_count"], 2);
  EXPECT_EQ(o["message"].as_object()["content"], "Hello");
  EXPECT_EQ(o["message"].as_object()["thinking"], "hm");
  EXPECT_EQ(o["message"].as_object()["tool_calls"].as_array().size(), 1u);

  Entry gen;
  gen.streamed = true;
  gen.pieces = {"{\"response\":\"a\",\"done\":false}\n{\"response\":\"b\",\"done\":false}\n",
                "{\"response\":\"\",\"done\":true,\"context\":[1,2]}\n"};
  json::object g = json::parse(*as_whole(gen, Family::generate)).as_object();
  EXPECT_EQ(g["response"], "ab");
  EXPECT_EQ(g["context"].as_array().size(), 2u);

  Entry cut = chat_stream();
  cut.pieces.pop_back();  // no done line: not a whole reply
  EXPECT_FALSE(as_whole(cut, Family::chat));
}

TEST(CacheEntry, AWholeReplyIsAOneLineStream) {
  Entry e;
  e.pieces = {"{\"response\":\"all\",", "\"done\":true}"};
  auto lines = as_stream(e);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "{\"response\":\"all\",\"done\":true}\n");
  EXPECT_EQ(as_stream(chat_stream()), chat_stream().pieces);
}

TEST(CacheLru, BoundedInBytesLeastRecentlyUsedGoesFirstAndExpiredEntriesAreNotServed) {
  auto entry = [](std::string model, std::size_t size, int64_t expires = 0) {
    Entry e;
    e.model = std::move(model);
    e.pieces = {std::string(size, 'x')};
    e.expires_unix_ms = expires;
    return std::make_shared<const Entry>(std::move(e));
  };
  const std::size_t one = entry("a", 1000)->bytes() + 1;
  LruTier lru(3 * one);
  lru.put("1", entry("a", 1000));
  lru.put("2", entry("b", 1000));
  lru.put("3", entry("a", 1000));
  ASSERT_TRUE(lru.get("1", 0));  // 1 is now the most recently used
  lru.put("4", entry("b", 1000));  // over budget: 2 goes
  EXPECT_FALSE(lru.get("2", 0));
  EXPECT_TRUE(lru.get("1", 0));
  EXPECT_TRUE(lru.get("4", 0));
  EXPECT_EQ(lru.stats().evictions, 1u);
  EXPECT_LE(lru.stats().bytes, 3 * one);
  lru.put("big", entry("a", 10 * one));  // larger than the whole budget: not kept
  EXPECT_FALSE(lru.get("big", 0));
  EXPECT_EQ(lru.erase("a"), 2u);  // 1 and 3
  EXPECT_FALSE(lru.get("1", 0));
  EXPECT_TRUE(lru.get("4", 0));
  lru.put("5", entry("c", 10, 100));
  EXPECT_TRUE(lru.get("5", 99));
  EXPECT_FALSE(lru.get("5", 100));
  EXPECT_EQ(lru.erase(), 1u);  // everything: 4 (5 expired and went)
}
