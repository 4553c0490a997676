// read_stream_line against a JSON tree: for every line, the one-pass reading must say what the
// tree says (the rules ContinuingSink applied to a parsed line before it read lines in one pass).
#include "api/stream_line.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <random>

using hydra::api::StreamLine;
using hydra::api::read_stream_line;
namespace json = boost::json;

namespace {

struct Expected {
  bool object = false, error = false, error_string = false, done = false, message = false, tool_calls = false;
  std::string error_text, text, thinking;
};

// What the tree says.
Expected from_tree(std::string_view line) {
  Expected e;
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (!o) return e;
  e.object = true;
  if (const json::value* error = o->if_contains("error")) {
    e.error = true;
    if (const json::string* s = error->if_string()) {
      e.error_string = true;
      e.error_text = *s;
    }
  }
  const json::value* done = o->if_contains("done");
  e.done = done && done->is_bool() && done->get_bool();
  const json::object* message = nullptr;
  if (const json::value* m = o->if_contains("message")) message = m->if_object();
  e.message = message != nullptr;
  const json::object& fields = message ? *message : *o;
  auto text_of = [&](std::string_view key) {
    const json::value* s = fields.if_contains(key);
    return s && s->is_string() ? std::string(s->get_string()) : std::string();
  };
  e.text = text_of(message ? "content" : "response");
  e.thinking = text_of("thinking");
  if (message) {
    const json::value* t = message->if_contains("tool_calls");
    if (t && !t->is_null()) {
      if (const auto* s = t->if_string()) e.tool_calls = !s->empty();
      else if (const auto* a = t->if_array()) e.tool_calls = !a->empty();
      else e.tool_calls = true;
    }
  }
  return e;
}

void expect_same(std::string_view line, StreamLine& got) {
  SCOPED_TRACE(std::string(line));
  const Expected want = from_tree(line);
  ASSERT_EQ(read_stream_line(line, got), want.object);
  if (!want.object) return;
  EXPECT_EQ(got.error, want.error);
  EXPECT_EQ(got.error_string, want.error_string);
  if (want.error_string) {
    EXPECT_EQ(got.error_text, want.error_text);
  }
  EXPECT_EQ(got.done, want.done);
  EXPECT_EQ(got.message, want.message);
  EXPECT_EQ(got.tool_calls, want.tool_calls);
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.thinking, want.thinking);
}

}  // namespace

TEST(StreamLine, OllamaChunksAreReadAsTheirTreeSaysWhateverTheirShape) {
  const char* lines[] = {
      R"({"model":"m","created_at":"t","response":"Hel","done":false})" "\n",
      R"({"model":"m","created_at":"t","response":"","done":true,"eval_count":12,"context":[1,2,3]})" "\n",
      R"({"model":"m","message":{"role":"assistant","content":"lo \"x\"\n\u00e9\ud83d\ude00"},"done":false})",
      R"({"model":"m","message":{"role":"assistant","content":"","thinking":"hmm"},"done":false})",
      R"({"model":"m","response":"r","thinking":"t","done":false})",
      R"({"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"content":"no","thinking":"no"}}}]},"done":false})",
      R"({"message":{"content":"a","tool_calls":[]},"done":false})",
      R"({"message":{"content":"a","tool_calls":null},"done":false})",
      R"({"message":{"content":"a","tool_calls":""},"done":false})",
      R"({"message":{"content":"a","tool_calls":"x"},"done":false})",
      R"({"message":{"content":"a","tool_calls":{}},"done":false})",
      R"({"message":{"content":"a","tool_calls":0},"done":false})",
      R"({"message":"not an object","response":"top","done":true})",
      R"({"response":"r","message":{"content":"c"}})",
      R"({"error":"model 'x' not found"})",
      R"({"error":{"code":1}})",
      R"({"error":null,"response":"r"})",
      R"({"done":"true","response":1})",
      R"({"done":1})",
      R"({"done":true,"done":false})",
      R"({"response":"a","response":"b"})",
      R"({"message":{"content":"a"},"message":{"thinking":"b"}})",
      R"({"x":{"message":{"content":"deep"}},"y":[{"response":"deep"}],"response":"top"})",
      R"({"message":{"content":"a","x":{"content":"deep","tool_calls":[1]}}})",
      R"({"\u0072esponse":"escaped name"})",
      R"({"a_very_long_member_name_that_goes_on":"v","response":"r"})",
      R"(  {"response":"spaces around"}  )" "\r\n",
      R"([{"response":"an array"}])",
      R"("a string")",
      "42",
      "null",
      R"({"response":"cut off)",
      R"({"response":"r"} trailing)",
      R"({"response":"r"}{"response":"s"})",
      "",
      "\n",
      R"({})",
      // The quick reading's edges (what it reads itself, and what it leaves to the parser).
      "{\"response\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"done\":false}",
      "{\"response\":\"\xc0\x80\"}",          // overlong
      "{\"response\":\"\xe0\x80\x80\"}",      // overlong
      "{\"response\":\"\xf0\x80\x80\x80\"}",  // overlong
      "{\"response\":\"\xe0\xa0\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\xed\x9f\xbf\"}",  // the first and last allowed
      "{\"response\":\"\xed\xa0\x80\"}",      // a surrogate
      "{\"response\":\"\xf4\x90\x80\x80\"}",  // above U+10FFFF
      "{\"response\":\"\xe2\x82\"}",          // cut short
      "{\"response\":\"\xe2\x82\",\"x\":1}",
      "{\"response\":\"tab\there\x1f\"}",     // a control character
      "{\"r\xc3\xa9sponse\":\"a name in UTF-8\",\"response\":\"r\"}",
      R"({"response":"\/\b\f\n\r\t\"\\","done":false})",
      R"({"response":"\x","done":false})",
      R"({"response":"a","n":[-0,0.5,123456789012345678,1234567890123456789,-7.25]})",
      R"({"response":"a","n":01})",
      R"({"response":"a","n":1.})",
      R"({"response":"a","n":.5})",
      R"({"response":"a","n":-})",
      R"({"response":"a","n":1e2,"done":true})",
      R"({"response":"a","n":[[[[[[[[[[[[1]]]]]]]]]]]],"done":true})",
      R"({"message":{"content":"deep","x":{"a":{"b":{"c":{"d":{"e":{"f":{}}}}}}}},"done":true})",
      R"({"done":tru})",
      R"({"done":nul})",
      R"({"done":true,})",
      R"({"done" : true , "response" :	"ws"})",
      "{\"response\":\"r\"}\n\n",
      "{\"response\":\"r\"} \x01",
  };
  StreamLine got;
  for (const char* line : lines) expect_same(line, got);  // one StreamLine for all: nothing carries over
}

TEST(StreamLine, RandomLinesAgreeWithTheTree) {
  // Objects made of the members that matter, in random order, types and nesting.
  std::mt19937 rng(20261204);
  const std::vector<std::string> names = {"response", "thinking", "done", "error", "message", "model", "content",
                                          "tool_calls", "x"};
  const std::vector<std::string> scalars = {R"("")", R"("t\"e\\x\nt")", R"("\u00fc")", "true", "false", "null",
                                            "0", "-1.5e3", "18446744073709551615", "1e400", "-2E-400", "123456789012345678901234",
                                            "-0", "0.25", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "\"a\\/b\\tc\""};
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    const int kind = depth > 2 ? 0 : static_cast<int>(rng() % 4);
    if (kind <= 1) return scalars[rng() % scalars.size()];
    std::string s;
    const int n = static_cast<int>(rng() % 4);
    if (kind == 2) {
      s = "{";
      for (int i = 0; i < n; ++i) s += (i ? "," : "") + ("\"" + names[rng() % names.size()] + "\":") + value(depth + 1);
      return s + "}";
    }
    s = "[";
    for (int i = 0; i < n; ++i) s += (i ? "," : "") + value(depth + 1);
    return s + "]";
  };
  StreamLine got;
  for (int round = 0; round < 40000; ++round) {
    std::string line = "{";
    const int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) line += (i ? "," : "") + ("\"" + names[rng() % names.size()] + "\":") + value(1);
    line += "}\n";
    // One line in four damaged (a byte dropped, doubled or replaced): read as the tree reads it
    // (mostly not an object at all), whichever way it is read.
    if (rng() % 4 == 0) {
      const std::size_t at = rng() % line.size();
      const char junk[] = {'"', '\\', ',', ':', '}', ']', '{', '[', '0', '-', 'e', '.', 't', ' ',
                           '\x01', '\x1f', '\xc3', '\xed', '\xf4', '\x80'};
      switch (rng() % 3) {
        case 0: line.erase(at, 1); break;
        case 1: line.insert(at, 1, line[at]); break;
        default: line[at] = junk[rng() % sizeof junk]; break;
      }
    }
    expect_same(line, got);
    if (::testing::Test::HasFailure()) break;
  }
}
