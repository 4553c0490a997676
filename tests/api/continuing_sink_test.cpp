// ContinuingSink and follow_up without a network: what reaches the requester's sink as the
// node's stream arrives in odd pieces, what counts as a node breaking off, how a continuation's
// lines are rewritten, and the follow-up request for each kind of request.
#include "api/continuation.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::api;
namespace json = boost::json;

namespace {

// Records what a requester would get.
class Recorder final : public ReplySink {
public:
  http::awaitable<void> gone() override {
    http::asio::steady_timer t(co_await http::asio::this_coro::executor, std::chrono::hours(1));
    co_await t.async_wait(http::use_nothrow);
  }
  http::awaitable<bool> begin(int status, std::string, std::optional<std::uint64_t>, const Served&) override {
    ++begins;
    this->status = status;
    co_return false;
  }
  http::awaitable<bool> data(std::string_view bytes) override {
    body.append(bytes);
    ++pieces;
    co_return false;
  }
  http::awaitable<void> end() override {
    ended = true;
    co_return;
  }
  http::awaitable<void> broke(std::string message) override {
    broken = std::move(message);
    co_return;
  }
  http::awaitable<void> declined(int, std::string, std::string) override { co_return; }
  http::awaitable<void> fail(int, std::string, int) override { co_return; }

  int begins = 0, status = 0, pieces = 0;
  std::string body, broken;
  bool ended = false;
};

template <class T>
T run(http::awaitable<T> a) {
  boost::asio::io_context ioc;
  auto f = boost::asio::co_spawn(ioc, std::move(a), boost::asio::use_future);
  ioc.run();
  return f.get();
}

constexpr const char* kNdjson = "application/x-ndjson";

std::string chat_line(std::string_view text, bool done = false) {
  json::object o{{"model", "m"}, {"message", json::object{{"role", "assistant"}, {"content", text}}}, {"done", done}};
  if (done) {
    o["eval_count"] = 2;
    o["total_duration"] = 5;
  }
  return json::serialize(o) + "\n";
}

Upstream request(std::string target, std::string body) {
  Upstream u;
  u.target = std::move(target);
  u.body = std::move(body);
  return u;
}

}  // namespace

TEST(ContinuingSink, OnlyWholeLinesReachTheRequesterWhateverThePieces) {
  Recorder r;
  ContinuingSink s(r, {});
  const std::string stream = chat_line("Hel") + chat_line("lo");
  run(s.begin(200, kNdjson, std::nullopt, {}));
  // Pieces that cut lines anywhere: the requester sees lines whole, in order.
  for (std::size_t at = 0; at < stream.size(); at += 7) {
    EXPECT_FALSE(run(s.data(std::string_view(stream).substr(at, 7))));
    EXPECT_TRUE(r.body.empty() || r.body.back() == '\n');
  }
  EXPECT_EQ(r.body, stream);
  EXPECT_EQ(s.text(), "Hello");
  EXPECT_EQ(s.tokens(), 2u);
  EXPECT_TRUE(s.following());
  // The node's connection ended, but without a final chunk: that is a failure, not an end.
  run(s.end());
  EXPECT_FALSE(r.ended);
  EXPECT_EQ(s.take_failure(), "its stream ended without a final chunk");
  EXPECT_EQ(s.take_failure(), "");  // read once
}

TEST(ContinuingSink, WholeLinesGoOnAsTheyCameAndALineOverTheLimitIsLeftToTheRequestersSink) {
  Recorder r;
  ReplyLimits limits;
  limits.line_bytes = 64;
  ContinuingSink s(r, limits);
  run(s.begin(200, kNdjson, std::nullopt, {}));
  // Two whole lines and the start of a third in one piece: the whole lines go on, in one piece.
  const std::string two = chat_line("a") + chat_line("b");
  EXPECT_FALSE(run(s.data(two + "{\"mo")));
  EXPECT_EQ(r.body, two);
  EXPECT_EQ(r.pieces, 1);
  EXPECT_EQ(s.tokens(), 2u);
  // The third line runs past limits.line_kb: what came of it goes on as it is, and the stream
  // is no longer followed (the requester's own sink refuses the line and says so).
  const std::string endless(100, 'x');
  EXPECT_FALSE(run(s.data(endless)));
  EXPECT_FALSE(s.following());
  EXPECT_EQ(r.body, two + "{\"mo" + endless);
  // Likewise when the long line begins in a piece that has whole lines before it.
  Recorder r2;
  ContinuingSink s2(r2, limits);
  run(s2.begin(200, kNdjson, std::nullopt, {}));
  EXPECT_FALSE(run(s2.data(two + endless)));
  EXPECT_FALSE(s2.following());
  EXPECT_EQ(r2.body, two + endless);
  EXPECT_EQ(r2.pieces, 1);
}

TEST(ContinuingSink, AnErrorLineStopsTheNodeAndIsNotPassedOn) {
  Recorder r;
  ContinuingSink s(r, {});
  run(s.begin(200, kNdjson, std::nullopt, {}));
  EXPECT_TRUE(run(s.data(chat_line("a") + "{\"error\":\"out of memory\"}\n" + chat_line("b"))));
  EXPECT_EQ(r.body, chat_line("a"));
  EXPECT_EQ(s.take_failure(), "it sent an error: out of memory");
  EXPECT_EQ(s.text(), "a");
}

TEST(ContinuingSink, AToolCallIsNoticed) {
  Recorder r;
  ContinuingSink s(r, {});
  run(s.begin(200, kNdjson, std::nullopt, {}));
  run(s.data(R"({"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f"}}]},"done":false})"
             "\n"));
  EXPECT_TRUE(s.tool_call());
}

TEST(ContinuingSink, AContinuationIsRewrittenIntoOneStream) {
  Recorder r;
  ContinuingSink s(r, {});
  run(s.begin(200, kNdjson, std::nullopt, {}));
  run(s.data(R"({"model":"m","response":"One","done":false})" "\n" R"({"model":"m","response":" two","done":false})" "\n"
             R"({"model":"m","resp)"));  // half a line when the node broke off
  s.continue_with(Switch{"a:1", "b:2", s.tokens()}, true);
  // The second node answers a chat; the requester began a generate stream and stays in it.
  EXPECT_FALSE(run(s.begin(200, kNdjson, std::nullopt, {})));
  run(s.data(chat_line(" three") + chat_line("", true)));
  run(s.end());
  EXPECT_EQ(r.begins, 1);
  EXPECT_TRUE(r.ended);
  std::vector<json::object> lines;
  for (std::size_t at = 0, nl; (nl = r.body.find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(json::parse(r.body.substr(at, nl - at)).as_object());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2].at("response"), " three");
  EXPECT_FALSE(lines[2].contains("message"));
  const json::object& last = lines[3];
  EXPECT_EQ(last.at("done"), true);
  EXPECT_EQ(last.at("eval_count"), 4);  // two from the first node, two from the second
  EXPECT_FALSE(last.contains("total_duration"));
  EXPECT_EQ(json::serialize(last.at("hydra")), R"({"continued":[{"from":"a:1","to":"b:2","after_tokens":2}]})");
  EXPECT_EQ(s.eval_count(), 4u);
  EXPECT_EQ(s.text(), "One two three");
}

TEST(ContinuingSink, AContinuationAnsweredWithSomethingElseIsAFailure) {
  Recorder r;
  ContinuingSink s(r, {});
  run(s.begin(200, kNdjson, std::nullopt, {}));
  run(s.data(chat_line("x")));
  s.continue_with(Switch{"a", "b", 1}, false);
  EXPECT_TRUE(run(s.begin(400, "application/json", std::nullopt, {})));
  EXPECT_NE(s.take_failure().find("status 400"), std::string::npos);
  EXPECT_EQ(r.begins, 1);
}

TEST(ContinuingSink, WholeRepliesPassThroughUntouched) {
  Recorder r;
  ContinuingSink s(r, {});
  run(s.begin(200, "application/json", 10, {}));
  run(s.data("{\"done\":"));
  run(s.data("true}"));
  run(s.end());
  EXPECT_FALSE(s.following());
  EXPECT_EQ(r.body, "{\"done\":true}");
  EXPECT_EQ(r.pieces, 2);
  EXPECT_TRUE(r.ended);
}

TEST(FollowUp, AChatGetsThePartialAsATrailingAssistantMessage) {
  FollowUp f = follow_up(request("/api/chat", R"({"model":"m","messages":[{"role":"user","content":"hi"}],"options":{"seed":7}})"),
                         "Hello", "hmm", 1);
  ASSERT_TRUE(f.upstream);
  EXPECT_EQ(f.upstream->target, "/api/chat");
  EXPECT_FALSE(f.generate_as_chat);
  auto body = json::parse(f.upstream->body).as_object();
  EXPECT_EQ(json::serialize(body.at("messages").as_array().back()),
            R"({"role":"assistant","content":"Hello","thinking":"hmm"})");
  EXPECT_EQ(body.at("options").at("seed"), 7);
  EXPECT_EQ(body.at("stream"), true);
}

TEST(FollowUp, APrefillGetsThePartialAppendedAndNumPredictCountsWhatWentOut) {
  FollowUp f = follow_up(request("/api/chat", R"({"model":"m","messages":[{"role":"user","content":"hi"},)"
                                              R"({"role":"assistant","content":"Sure:"}],"options":{"num_predict":20}})"),
                         " one two", "", 2);
  ASSERT_TRUE(f.upstream);
  auto body = json::parse(f.upstream->body).as_object();
  ASSERT_EQ(body.at("messages").as_array().size(), 2u);  // no second assistant message
  EXPECT_EQ(body.at("messages").at(1).at("content"), "Sure: one two");
  EXPECT_EQ(body.at("options").at("num_predict"), 18);
  // No limit (-1), or one already reached, is not lowered below 1.
  auto unlimited = follow_up(request("/api/chat", R"({"model":"m","messages":[],"options":{"num_predict":-1}})"), "x", "", 5);
  EXPECT_EQ(json::parse(unlimited.upstream->body).at("options").at("num_predict"), -1);
  auto reached = follow_up(request("/api/chat", R"({"model":"m","messages":[],"options":{"num_predict":3}})"), "x", "", 5);
  EXPECT_EQ(json::parse(reached.upstream->body).at("options").at("num_predict"), 1);
}

TEST(FollowUp, AGenerateBecomesAChatOfSystemUserAndPartial) {
  FollowUp f = follow_up(request("/api/generate", R"({"model":"m","prompt":"why","system":"be brief","images":["aGk="],)"
                                                  R"("format":"json","keep_alive":"1m","options":{"temperature":0}})"),
                         "Because", "", 1);
  ASSERT_TRUE(f.upstream);
  EXPECT_EQ(f.upstream->target, "/api/chat");
  EXPECT_TRUE(f.generate_as_chat);
  auto body = json::parse(f.upstream->body).as_object();
  EXPECT_EQ(json::serialize(body.at("messages")),
            R"([{"role":"system","content":"be brief"},{"role":"user","content":"why","images":["aGk="]},)"
            R"({"role":"assistant","content":"Because"}])");
  EXPECT_EQ(body.at("format"), "json");
  EXPECT_EQ(body.at("keep_alive"), "1m");
  EXPECT_EQ(body.at("options").at("temperature"), 0);
}

TEST(FollowUp, ARawGenerateAppendsThePartialToItsPrompt) {
  FollowUp f = follow_up(request("/api/generate", R"({"model":"m","prompt":"[INST] hi [/INST]","raw":true})"), " Hello", "", 1);
  ASSERT_TRUE(f.upstream);
  EXPECT_EQ(f.upstream->target, "/api/generate");
  EXPECT_EQ(json::parse(f.upstream->body).at("prompt"), "[INST] hi [/INST] Hello");
}

TEST(FollowUp, WhatCannotBeHonouredIsRefused) {
  EXPECT_EQ(follow_up(request("/api/generate", R"({"model":"m","prompt":"x","context":[1]})"), "a", "", 1).why_not,
            "the request carries a context");
  EXPECT_EQ(follow_up(request("/api/chat", R"({"model":"m","messages":[],"template":"{{.Prompt}}"})"), "a", "", 1).why_not,
            "the request has its own template");
  EXPECT_EQ(follow_up(request("/api/generate", R"({"model":"m","prompt":"x","suffix":"}"})"), "a", "", 1).why_not,
            "the request has a suffix");
  EXPECT_FALSE(follow_up(request("/api/chat", "not json"), "a", "", 1).upstream);
  EXPECT_TRUE(continuable(request("/api/chat", "")));
  EXPECT_FALSE(continuable(request("/api/embed", "")));
}
