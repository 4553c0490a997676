// Mid-stream continuation end to end: `hydra serve` in front of `hydra sim` processes. A node
// that breaks off mid-reply (connection cut, error line, crashed process, frozen machine) is
// replaced by another that goes on from where it stopped, and the client's text equals, byte
// for byte, the reply it would have had without the failure.
#include "support/fleet.hpp"
#include "support/streams.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <future>
#include <gtest/gtest.h>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

constexpr const char* kModel = "llama3.2:3b";

std::vector<std::string> sim_args(double tps, std::vector<std::string> extra = {}) {
  std::vector<std::string> a{"--model", "llama3.2:3b=2", "--loaded", kModel, "--tokens-per-second",
                             fmt::format("{}", tps), "--load-seconds", "0.1"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

void fault(Fleet& f, std::size_t i, const std::string& body) {
  ASSERT_EQ(post(f.sim(i).endpoint, "/_sim/fault", body).status, 200);
}

Streamed stream(const Endpoint& ep, const std::string& target, const std::string& body, const std::string& node = "") {
  HttpCall c;
  c.method = "POST";
  c.target = target;
  c.body = body;
  c.timeout = seconds(30);
  if (!node.empty()) c.headers["X-Hydra-Node"] = node;
  return parse_ndjson(request(ep, c));
}

std::string chat(const std::string& prompt) {
  return fmt::format(R"({{"model":"{}","messages":[{{"role":"user","content":"{}"}}]}})", kModel, prompt);
}

// What a node says to `body` when nothing goes wrong, asked directly.
std::string reference(const Endpoint& node, const std::string& target, std::string body) {
  body.insert(body.size() - 1, R"(,"stream":false)");
  auto r = post(node, target, body);
  json::value v = json::parse(r.body);
  const auto& o = v.as_object();
  if (const auto* m = o.if_contains("message")) return std::string(m->as_object().at("content").as_string());
  return std::string(o.at("response").as_string());
}

int64_t stat_of(Fleet& f, std::size_t i, const char* key) {
  auto s = f.sim_stats(i);
  return s.is_object() ? s.at(key).to_number<int64_t>() : -1;
}

uint64_t continuations(Fleet& f, const std::string& outcome) {
  auto r = get(f.gateway(), "/metrics");
  const std::string key = fmt::format("hydra_continuations_total{{outcome=\"{}\"}} ", outcome);
  auto at = r.body.find(key);
  return at == std::string::npos ? 0 : std::stoull(r.body.substr(at + key.size()));
}

const json::array* continued(const json::object& last) {
  const auto* h = last.if_contains("hydra");
  return h ? h->as_object().at("continued").if_array() : nullptr;
}

}  // namespace

TEST(Continuation, AChatStreamCutMidReplyGoesOnOnAnotherNodeByteForByte) {
  Fleet f;
  f.add_sim("a", sim_args(100));
  f.add_sim("b", sim_args(100));
  f.start_gateway();
  const std::string body = chat("tell me about fleets");
  const std::string expected = reference(f.sim(0).endpoint, "/api/chat", body);
  fault(f, 0, R"({"mode":"cut","after_tokens":5,"count":1})");

  Streamed s = stream(f.gateway(), "/api/chat", body, f.sim(0).id);
  ASSERT_EQ(s.reply.status, 200);
  EXPECT_FALSE(s.torn);
  EXPECT_EQ(s.text, expected);
  json::object last = s.last();
  EXPECT_EQ(last.at("done"), true);
  // Every token the client received is counted; what only the first node knew is left out.
  EXPECT_EQ(last.at("eval_count").to_number<uint64_t>(), s.lines.size() - 1);
  EXPECT_FALSE(last.contains("total_duration"));
  EXPECT_FALSE(last.contains("eval_duration"));
  const json::array* steps = continued(last);
  ASSERT_NE(steps, nullptr);
  ASSERT_EQ(steps->size(), 1u);
  EXPECT_EQ(steps->at(0).at("from"), f.sim(0).id.c_str());
  EXPECT_EQ(steps->at(0).at("to"), f.sim(1).id.c_str());
  EXPECT_EQ(steps->at(0).at("after_tokens"), 5);
  EXPECT_EQ(continuations(f, "resumed"), 1u);
  // The routing log says so too.
  auto routing = json::parse(get(f.gateway(), "/routing").body);
  EXPECT_NE(json::serialize(routing).find("\"continued\""), std::string::npos);
}

TEST(Continuation, APrefilledAnswerAndATokenLimitAreHonouredAcrossTheSwitch) {
  Fleet f;
  f.add_sim("a", sim_args(100));
  f.add_sim("b", sim_args(100));
  f.start_gateway();
  // The client began the answer itself, and wants 12 tokens in all.
  const std::string body = fmt::format(
      R"({{"model":"{}","messages":[{{"role":"user","content":"list three things"}},)"
      R"({{"role":"assistant","content":"Here they are:"}}],"options":{{"num_predict":12}}}})",
      kModel);
  const std::string expected = reference(f.sim(0).endpoint, "/api/chat", body);
  fault(f, 0, R"({"mode":"cut","after_tokens":5,"count":1})");
  Streamed s = stream(f.gateway(), "/api/chat", body, f.sim(0).id);
  EXPECT_EQ(s.text, expected);
  EXPECT_EQ(s.lines.size() - 1, 12u);
  const json::object last = s.last();
  EXPECT_EQ(last.at("eval_count"), 12);
  EXPECT_EQ(last.at("done_reason"), "length");
  ASSERT_NE(continued(last), nullptr);
}

TEST(Continuation, GenerateGoesOnAsAChatAndComesBackInGenerateShape) {
  Fleet f;
  f.add_sim("a", sim_args(100));
  f.add_sim("b", sim_args(100));
  f.start_gateway();
  const std::string body =
      fmt::format(R"({{"model":"{}","prompt":"why is the sky blue","system":"answer briefly"}})", kModel);
  const std::string expected = reference(f.sim(0).endpoint, "/api/generate", body);
  fault(f, 0, R"({"mode":"error_line","after_tokens":3,"count":1,"message":"runner crashed"})");

  Streamed s = stream(f.gateway(), "/api/generate", body, f.sim(0).id);
  ASSERT_EQ(s.reply.status, 200);
  EXPECT_FALSE(s.torn);
  EXPECT_EQ(s.text, expected);
  for (const auto& line : s.lines) {
    EXPECT_FALSE(line.contains("message"));  // generate's shape throughout
    EXPECT_FALSE(line.contains("error"));
  }
  EXPECT_FALSE(s.last().contains("context"));
  EXPECT_EQ(s.last().at("eval_count").to_number<uint64_t>(), s.lines.size() - 1);
  auto stats = f.sim_stats(1).at("requests_by_path").as_object();
  EXPECT_EQ(stats.at("/api/chat"), 1);  // the continuation was a chat with the partial answer
}

TEST(Continuation, ARawGenerateGoesOnWithThePartialAppendedToThePrompt) {
  Fleet f;
  f.add_sim("a", sim_args(100));
  f.add_sim("b", sim_args(100));
  f.start_gateway();
  const std::string body = fmt::format(R"({{"model":"{}","prompt":"[INST] hi [/INST]","raw":true}})", kModel);
  const std::string expected = reference(f.sim(0).endpoint, "/api/generate", body);
  fault(f, 0, R"({"mode":"cut","after_tokens":4,"count":1})");

  Streamed s = stream(f.gateway(), "/api/generate", body, f.sim(0).id);
  EXPECT_EQ(s.text, expected);
  ASSERT_NE(continued(s.last()), nullptr);
  auto stats = f.sim_stats(1).at("requests_by_path").as_object();
  EXPECT_EQ(stats.at("/api/generate"), 1);
  EXPECT_FALSE(stats.contains("/api/chat"));
}

TEST(Continuation, AnOpenAiStreamGoesOnAndCountsEveryToken) {
  Fleet f;
  f.add_sim("a", sim_args(100));
  f.add_sim("b", sim_args(100));
  f.start_gateway();
  const std::string expected = reference(f.sim(0).endpoint, "/api/chat", chat("hello there"));
  fault(f, 0, R"({"mode":"cut","after_tokens":6,"count":1})");
  HttpCall c;
  c.method = "POST";
  c.target = "/v1/chat/completions";
  c.headers["X-Hydra-Node"] = f.sim(0).id;
  c.body = fmt::format(
      R"({{"model":"{}","messages":[{{"role":"user","content":"hello there"}}],"stream":true,"stream_options":{{"include_usage":true}}}})",
      kModel);
  HttpReply r = request(f.gateway(), c);
  ASSERT_EQ(r.status, 200);
  SseText sse = parse_sse(r.body);
  EXPECT_FALSE(sse.error);
  EXPECT_TRUE(sse.done);
  EXPECT_EQ(sse.text, expected);
  EXPECT_EQ(sse.completion_tokens, sse.deltas);
}
TEST(Continuation, ACrashedNodeAndAFrozenOneAreBothContinued) {
  Fleet f;
  f.add_sim("a", sim_args(100, {"--exit-after-tokens", "7"}));
  f.add_sim("b", sim_args(20));
  f.add_sim("c", sim_args(100));
  f.start_gateway({"HYDRA_IDLE_TIMEOUT_MS=700"});
  const std::string body = chat("a long story");
  const std::string expected = reference(f.sim(2).endpoint, "/api/chat", body);

  // The whole process of a ends after its 7th token.
  Streamed crashed = stream(f.gateway(), "/api/chat", body, f.sim(0).id);
  EXPECT_EQ(crashed.text.substr(crashed.text.find(':')), expected.substr(expected.find(':')));
  EXPECT_TRUE(crashed.text.starts_with("a:"));
  ASSERT_NE(continued(crashed.last()), nullptr);
  EXPECT_EQ(continued(crashed.last())->at(0).at("after_tokens"), 7);
  EXPECT_TRUE(f.sim(0).process->wait_exit(seconds(5)).has_value());

  // b stops answering (SIGSTOP) once the stream is under way: the idle timeout hands it on.
  HttpCall c;
  c.method = "POST";
  c.target = "/api/chat";
  c.body = body;
  c.timeout = seconds(30);
  c.headers["X-Hydra-Node"] = f.sim(1).id;
  int pieces = 0;
  c.on_data = [&](std::string_view) {
    if (++pieces == 3) f.sim(1).process->freeze();
    return true;
  };
  Streamed frozen = parse_ndjson(request(f.gateway(), c));
  f.sim(1).process->thaw();
  EXPECT_EQ(frozen.text.substr(frozen.text.find(':')), expected.substr(expected.find(':')));
  const json::object frozen_last = frozen.last();
  const json::array* steps = continued(frozen_last);
  ASSERT_NE(steps, nullptr);
  EXPECT_EQ(steps->at(0).at("from"), f.sim(1).id.c_str());
  EXPECT_EQ(steps->at(0).at("to"), f.sim(2).id.c_str());
}

TEST(Continuation, AContinuationGoesBeforeRequestsWaitingInTheQueue) {
  Fleet f;
  f.add_sim("a", sim_args(20), "#slots=1");
  // Only b has the second model: a request for it can wait for b alone.
  f.add_sim("b", sim_args(20, {"--model", "qwen2.5:7b=4", "--loaded", "qwen2.5:7b"}), "#slots=1");
  f.start_gateway();
  using Clock = std::chrono::steady_clock;
  auto call = [&](const std::string& prompt, const std::string& node, Clock::time_point* first, Clock::time_point* end) {
    return std::async(std::launch::async, [&f, prompt, node, first, end] {
      HttpCall c;
      c.method = "POST";
      c.target = "/api/chat";
      c.body = chat(prompt);
      if (prompt == "y") c.body = R"({"model":"qwen2.5:7b","messages":[{"role":"user","content":"y"}]})";
      c.timeout = seconds(30);
      if (!node.empty()) c.headers["X-Hydra-Node"] = node;
      c.on_data = [first](std::string_view) {
        if (*first == Clock::time_point{}) *first = Clock::now();
        return true;
      };
      Streamed s = parse_ndjson(request(f.gateway(), c));
      *end = Clock::now();
      return s;
    });
  };
  fault(f, 0, R"({"mode":"cut","after_tokens":10,"count":1})");
  Clock::time_point x_first{}, x_end{}, y_first{}, y_end{}, z_first{}, z_end{};
  auto x = call("x", f.sim(1).id, &x_first, &x_end);  // holds b's one slot for a second or two
  ASSERT_TRUE(wait_for([&] { return stat_of(f, 1, "active") == 1; }, seconds(5)));
  auto z = call("z", f.sim(0).id, &z_first, &z_end);  // a cuts it after 10 tokens: it needs b
  ASSERT_TRUE(wait_for([&] { return z_first != Clock::time_point{}; }, seconds(5)));
  auto y = call("y", "", &y_first, &y_end);  // waits in Hydra's queue for b, before z does
  Streamed zs = z.get(), ys = y.get(), xs = x.get();
  ASSERT_TRUE(zs.done() && ys.done() && xs.done());
  ASSERT_NE(continued(zs.last()) , nullptr);
  // b's slot went to the continuation first, although y had waited longer.
  auto ms = [&](Clock::time_point t) { return duration_cast<milliseconds>(t - x_first).count(); };
  EXPECT_LT(z_end, y_first) << "x ends " << ms(x_end) << " ms, z first " << ms(z_first) << " ends " << ms(z_end)
                            << ", y first " << ms(y_first) << " ends " << ms(y_end) << "\n"
                            << json::serialize(zs.last()) << "\n" << f.gateway_log();
}

TEST(Continuation, WhatCannotBeContinuedEndsWithAnErrorLineAsBefore) {
  Fleet f;
  f.add_sim("a", sim_args(100));
  f.add_sim("b", sim_args(100));
  f.start_gateway();
  // A request with a context: the continuation could not honour it.
  fault(f, 0, R"({"mode":"cut","after_tokens":3,"count":1})");
  Streamed s = stream(f.gateway(), "/api/generate",
                      fmt::format(R"({{"model":"{}","prompt":"hi","context":[1,2,3]}})", kModel), f.sim(0).id);
  ASSERT_FALSE(s.lines.empty());
  ASSERT_TRUE(s.last().contains("error"));
  EXPECT_NE(std::string(s.last().at("error").as_string()).find("not continued: the request carries a context"),
            std::string::npos);
  EXPECT_EQ(s.lines.size(), 4u);  // three tokens, then the error line; no torn line
  EXPECT_FALSE(s.torn);
  EXPECT_EQ(continuations(f, "skipped"), 1u);

  // Every other node fails too: the stream ends with an error line naming them.
  fault(f, 0, R"({"mode":"cut","after_tokens":2,"count":1})");
  fault(f, 1, R"({"mode":"cut","after_tokens":2,"count":1})");
  s = stream(f.gateway(), "/api/chat", chat("x"), f.sim(0).id);
  ASSERT_TRUE(s.last().contains("error"));
  EXPECT_NE(std::string(s.last().at("error").as_string()).find("no other node with the model could continue it"),
            std::string::npos);
  EXPECT_EQ(continuations(f, "failed"), 1u);
  // The routing log keeps the switch of a stream that broke off for good.
  const json::value routing = json::parse(get(f.gateway(), "/routing").body);
  EXPECT_NE(json::serialize(routing).find(R"("continued":[{"from":")" + f.sim(0).id), std::string::npos)
      << json::serialize(routing);
}

TEST(Continuation, TurnedOffTheStreamEndsWithAnErrorLine) {
  Fleet f;
  f.add_sim("a", sim_args(100));
  f.add_sim("b", sim_args(100));
  f.start_gateway({"HYDRA_CONTINUE_STREAMS=false"});
  fault(f, 0, R"({"mode":"cut","after_tokens":3,"count":1})");
  Streamed s = stream(f.gateway(), "/api/chat", chat("x"), f.sim(0).id);
  ASSERT_TRUE(s.last().contains("error"));
  EXPECT_NE(std::string(s.last().at("error").as_string()).find("(not continued: failover.continue_streams is off)"),
            std::string::npos);
  EXPECT_EQ(f.sim_stats(1).at("generations"), 0);
}
