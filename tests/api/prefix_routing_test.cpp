// Prefix affinity end to end: hydra serve in front of hydra sim processes, whose slots keep a
// prompt cache as Ollama's runner does (sim/prompt_cache.hpp) and report the prompt tokens
// they evaluated. A conversation's next turn lands where its last one was served; it moves
// away when that node is full and waiting would cost more than the cache saves, and waits for
// it when the cache saves more.
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <future>
#include <gtest/gtest.h>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

const char* kModel = "m:7b";

std::vector<std::string> sim_args(int parallel, double prompt_tps, double tps) {
  return {"--model", "m:7b=4", "--loaded", kModel, "--parallel", std::to_string(parallel),
          "--prompt-tokens-per-second", fmt::format("{}", prompt_tps), "--tokens-per-second", fmt::format("{}", tps),
          "--load-seconds", "0.05", "--multiuser-cache"};  // as README advises (OLLAMA_MULTIUSER_CACHE=1)
}

std::string document(int words, const std::string& stem) {
  std::string out;
  for (int i = 0; i < words; ++i) out += fmt::format("{}{} ", stem, i);
  return out;
}

struct Turn {
  int status = 0;
  std::string node, reason, text;
  int64_t evaluated = -1;  // prompt_eval_count
};

Turn chat(const Endpoint& gw, const json::array& messages, int num_predict, std::map<std::string, std::string> headers = {},
          const char* path = "/api/chat") {
  HttpCall c;
  c.method = "POST";
  c.target = path;
  c.body = json::serialize(json::object{{"model", kModel}, {"messages", messages}, {"stream", false},
                                        {"options", json::object{{"num_predict", num_predict}}},
                                        {"max_tokens", num_predict}});
  c.headers = std::move(headers);
  c.timeout = seconds(30);
  HttpReply r = request(gw, c);
  Turn t;
  t.status = r.status;
  t.node = r.headers["x-hydra-node"];
  t.reason = r.headers["x-hydra-route-reason"];
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return t;
  const json::object& o = v.as_object();
  if (const auto* m = o.if_contains("message")) t.text = std::string(m->at("content").as_string());
  if (const auto* n = o.if_contains("prompt_eval_count")) t.evaluated = n->to_number<int64_t>();
  if (const auto* choices = o.if_contains("choices")) t.text = std::string(choices->at(0).at("message").at("content").as_string());
  if (const auto* usage = o.if_contains("usage")) t.evaluated = usage->at("prompt_tokens").to_number<int64_t>();
  return t;
}

json::array opening(const std::string& doc) {
  return json::array{json::object{{"role", "system"}, {"content", "You answer questions about the document."}},
                     json::object{{"role", "user"}, {"content", doc + "\nWhat is it about?"}}};
}

void add_turn(json::array& messages, const Turn& reply, const std::string& question) {
  messages.push_back(json::object{{"role", "assistant"}, {"content", reply.text}});
  messages.push_back(json::object{{"role", "user"}, {"content", question}});
}

int64_t sim_active(Fleet& f, std::size_t i) {
  auto s = f.sim_stats(i);
  return s.is_object() ? s.at("active").to_number<int64_t>() : -1;
}

std::size_t index_of(Fleet& f, const std::string& id) {
  for (std::size_t i = 0; i < 8; ++i)
    if (f.sim(i).id == id) return i;
  return 99;
}

}  // namespace

TEST(PrefixRouting, EachConversationsNextTurnLandsWhereItsLastWasServed) {
  Fleet f;
  for (const char* name : {"a", "b", "c"}) f.add_sim(name, sim_args(2, 20000, 400), "#slots=2");
  f.start_gateway();
  std::vector<json::array> conversations;
  std::vector<Turn> first;
  for (int i = 0; i < 3; ++i) {
    conversations.push_back(opening(document(1500, fmt::format("c{}w", i))));
    first.push_back(chat(f.gateway(), conversations.back(), 8));
    ASSERT_EQ(first.back().status, 200);
    EXPECT_GT(first.back().evaluated, 1500);  // cold: the whole document
  }
  for (int i = 0; i < 3; ++i) {
    add_turn(conversations[i], first[i], "And then?");
    Turn second = chat(f.gateway(), conversations[i], 8);
    ASSERT_EQ(second.status, 200);
    EXPECT_EQ(second.node, first[i].node) << second.reason;
    EXPECT_NE(second.reason.find("prefix match"), std::string::npos) << second.reason;
    EXPECT_LT(second.evaluated, 30) << second.reason;  // the new question (and the start token)
  }
  // The OpenAI API too: its calls reach the node as /api/chat.
  json::array openai = opening(document(1500, "oa"));
  Turn one = chat(f.gateway(), openai, 8, {}, "/v1/chat/completions");
  ASSERT_EQ(one.status, 200);
  add_turn(openai, one, "Say more.");
  Turn two = chat(f.gateway(), openai, 8, {}, "/v1/chat/completions");
  ASSERT_EQ(two.status, 200);
  EXPECT_EQ(two.node, one.node) << two.reason;
  EXPECT_LT(two.evaluated, 30);
  auto metrics = get(f.gateway(), "/metrics").body;
  EXPECT_NE(metrics.find("hydra_prefix_requests_total{result=\"hit\"} 4"), std::string::npos) << metrics;
}

namespace {

// A conversation's first turn; then another branch of it, pinned to that node (x) and kept
// running there (so x's cache still holds the prefix, and x is full); then the second turn.
struct Branched {
  Turn one, two;
  std::size_t x = 99;
  int branch_status = 0;
};

Branched second_turn_beside_a_branch(Fleet& f, int first_tokens, int branch_tokens) {
  Branched out;
  json::array conversation = opening(document(1500, "d"));
  out.one = chat(f.gateway(), conversation, first_tokens);
  out.x = index_of(f, out.one.node);
  if (out.one.status != 200 || out.x >= 2) return out;
  json::array branch = conversation;
  add_turn(branch, out.one, "A different question, asked at length?");
  auto busy = std::async(std::launch::async,
                         [&] { return chat(f.gateway(), branch, branch_tokens, {{"X-Hydra-Node", out.one.node}}); });
  if (wait_for([&] { return sim_active(f, out.x) == 1; }, seconds(10))) {
    add_turn(conversation, out.one, "And then?");
    out.two = chat(f.gateway(), conversation, 8);
  }
  out.branch_status = busy.get().status;
  return out;
}

// Every request of it was answered, and x was found.
testing::AssertionResult all_answered(const Branched& r) {
  if (r.one.status != 200 || r.x >= 2 || r.two.status != 200 || r.branch_status != 200)
    return testing::AssertionFailure() << "first " << r.one.status << ", x " << r.x << ", second " << r.two.status
                                       << ", branch " << r.branch_status << ": " << r.two.reason;
  return testing::AssertionSuccess();
}

}  // namespace

TEST(PrefixRouting, AFullNodeIsLeftWhenWaitingCostsMoreThanItsCacheSaves) {
  Fleet f;
  // Prompt evaluation is quick (20,000 tokens/s: the document costs ~0.1 s); the first turn's
  // reply is long (~0.6 s: the node's usual request), the branch's longer.
  for (const char* name : {"x", "y"}) f.add_sim(name, sim_args(1, 20000, 100), "#slots=1");
  f.start_gateway();
  Branched r = second_turn_beside_a_branch(f, 60, 300);
  ASSERT_TRUE(all_answered(r));
  EXPECT_EQ(r.two.node, f.sim(1 - r.x).id) << r.two.reason;
  EXPECT_NE(r.two.reason.find("but it is full"), std::string::npos) << r.two.reason;
  EXPECT_GT(r.two.evaluated, 1500);  // evaluated cold elsewhere
}

TEST(PrefixRouting, AFullNodeIsWaitedForWhenItsCacheSavesMore) {
  Fleet f;
  // Prompt evaluation is slow (1,000 tokens/s: the document costs ~1.5 s); replies are quick.
  for (const char* name : {"x", "y"}) f.add_sim(name, sim_args(1, 1000, 200), "#slots=1");
  f.start_gateway();
  Branched r = second_turn_beside_a_branch(f, 8, 60);
  ASSERT_TRUE(all_answered(r));
  EXPECT_EQ(r.two.node, r.one.node) << r.two.reason;
  EXPECT_NE(r.two.reason.find("waited for a slot there"), std::string::npos) << r.two.reason;
  EXPECT_LT(r.two.evaluated, 100) << r.two.reason;  // the reply and the question, not the document
}

TEST(PrefixRouting, ASessionStaysOnItsNodeWhileItHasRoom) {
  Fleet f;
  for (const char* name : {"a", "b"}) f.add_sim(name, sim_args(4, 20000, 400), "#slots=4");
  f.start_gateway();
  std::string first_node;
  for (int i = 0; i < 6; ++i) {  // short prompts: nothing for the prefix index, only the session
    json::array messages{json::object{{"role", "user"}, {"content", fmt::format("hi {}", i)}}};
    Turn t = chat(f.gateway(), messages, 4, {{"X-Hydra-Session", "chat-42"}});
    ASSERT_EQ(t.status, 200);
    if (i == 0) first_node = t.node;
    EXPECT_EQ(t.node, first_node) << t.reason;
    if (i > 0) EXPECT_NE(t.reason.find("session chat-42 stays on " + first_node), std::string::npos) << t.reason;
  }
  HttpCall bad;
  bad.method = "POST";
  bad.target = "/api/chat";
  bad.body = R"({"model":"m:7b","messages":[{"role":"user","content":"hi"}]})";
  bad.headers = {{"X-Hydra-Session", std::string(600, 's')}};
  auto r = request(f.gateway(), bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("X-Hydra-Session must be"), std::string::npos) << r.body;
}

// On several threads a worker routes a keyed prompt itself, reading the prefix index under a
// shared lock: the next turns still land where their conversations were served, and some were
// admitted without the control thread (a connection the control thread accepted is routed
// there: one in four at four threads, so all six on it is one chance in 4,096).
TEST(PrefixRouting, WorkersRouteTheNextTurnsThemselvesAndTheyStillLandWhereTheLastWere) {
  Fleet f;
  for (const char* name : {"a", "b", "c"}) f.add_sim(name, sim_args(2, 20000, 400), "#slots=2");
  f.start_gateway({}, {"--threads", "4"});
  std::vector<json::array> conversations;
  std::vector<Turn> last;
  for (int i = 0; i < 3; ++i) {
    conversations.push_back(opening(document(600, fmt::format("t{}w", i))));
    last.push_back(chat(f.gateway(), conversations.back(), 4));
    ASSERT_EQ(last.back().status, 200);
  }
  auto by_workers = [&f] {
    json::value v = json::parse(get(f.gateway(), "/stats").body);
    return v.at("queue").at("admitted_by_workers").to_number<int64_t>();
  };
  const int64_t before = by_workers();
  for (int turn = 2; turn <= 3; ++turn)
    for (int i = 0; i < 3; ++i) {
      add_turn(conversations[i], last[i], fmt::format("And then ({})?", turn));
      Turn next = chat(f.gateway(), conversations[i], 4);
      ASSERT_EQ(next.status, 200);
      EXPECT_EQ(next.node, last[i].node) << next.reason;
      EXPECT_NE(next.reason.find("prefix match"), std::string::npos) << next.reason;
      EXPECT_LT(next.evaluated, 30) << next.reason;
      last[i] = next;
    }
  EXPECT_GE(by_workers() - before, 1);
}
