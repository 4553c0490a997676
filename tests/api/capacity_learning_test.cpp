// Capacity nobody configured (issue #16): `hydra serve` in front of sims with different
// parallelism (--parallel) and no `#slots=` in their URLs learns each node's parallelism from
// first-byte times, shows it in /nodes, and spreads a busy model to a node that has it on disk.
// Assertions are on where requests went and on learned values, with generous bounds; replies
// are paced by the sims' timers (tokens per second), so a loaded machine changes little.
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <future>
#include <gtest/gtest.h>
#include <map>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

// A streamed generate (only streamed replies teach the learner), read whole.
HttpReply generate_streamed(const Endpoint& gw, const std::string& prompt, int num_predict) {
  HttpCall c;
  c.method = "POST";
  c.target = "/api/generate";
  c.body = fmt::format(R"({{"model":"m:3b","prompt":"{}","options":{{"num_predict":{}}}}})", prompt, num_predict);
  c.timeout = seconds(60);
  return request(gw, c);
}

int64_t stat(Fleet& f, std::size_t i, const char* key) {
  auto s = f.sim_stats(i);
  return s.is_object() ? s.at(key).to_number<int64_t>() : -1;
}

int64_t served_by(Fleet& f, std::size_t i) {
  auto s = f.sim_stats(i);
  if (!s.is_object()) return -1;
  const auto* m = s.at("requests_by_model").as_object().if_contains("m:3b");
  return m ? m->to_number<int64_t>() : 0;
}

json::object node_of(Fleet& f, const std::string& id) {
  auto r = get(f.gateway(), "/nodes");
  if (r.status != 200) return {};
  const json::value all = json::parse(r.body);
  for (const auto& n : all.at("nodes").as_array())
    if (n.at("id").as_string() == id) return n.as_object();
  return {};
}

// The node's learned slots for m:3b, 0 when nothing is learned yet.
int learned_slots(Fleet& f, const std::string& id) {
  auto n = node_of(f, id);
  const auto* learned = n.if_contains("slots_learned");
  const auto* m = learned && learned->is_object() ? learned->as_object().if_contains("m:3b") : nullptr;
  if (!m || m->at("source").as_string() != "learned") return 0;
  return static_cast<int>(m->at("slots").to_number<int64_t>());
}

// 8 concurrent streamed requests of `tokens` each; the node that served each.
std::map<std::string, int> burst(Fleet& f, int n, int tokens) {
  std::vector<std::future<HttpReply>> all;
  for (int i = 0; i < n; ++i)
    all.push_back(std::async(std::launch::async, [&f, i, tokens] {
      return generate_streamed(f.gateway(), fmt::format("b{}", i), tokens);
    }));
  std::map<std::string, int> by_node;
  for (auto& a : all) {
    auto r = a.get();
    EXPECT_EQ(r.status, 200) << r.body;
    ++by_node[r.headers["x-hydra-node"]];
  }
  return by_node;
}

// At 10 tokens/s a 30-token reply keeps its slot for 3 s; a cold load of the 1 GB model is
// reckoned at 1.5 s (and takes 0.3 s on the sim).
std::vector<std::string> sim_args(const char* parallel, bool loaded) {
  std::vector<std::string> a{"--tokens-per-second", "10", "--load-seconds", "0.3", "--parallel", parallel,
                             "--model", "m:3b=1"};
  if (loaded) a.insert(a.end(), {"--loaded", "m:3b"});
  return a;
}

}  // namespace

TEST(CapacityLearning, ABusyModelSpreadsAndTheTwoSlotNodeIsLearnedAsTwo) {
  Fleet f;
  f.add_sim("small", sim_args("2", true));   // has the model loaded, runs 2 at once
  f.add_sim("big", sim_args("4", false));    // has it on disk, runs 4 at once
  f.start_gateway();
  auto before = node_of(f, f.sim(0).id);
  EXPECT_EQ(before.at("slots_source").as_string(), "default");

  auto by_node = burst(f, 8, 30);
  EXPECT_GE(by_node[f.sim(1).id], 2) << "the node with the model on disk should take some";
  EXPECT_GE(served_by(f, 1), 2);
  EXPECT_EQ(served_by(f, 0) + served_by(f, 1), 8);
  // small queued what went past its 2 slots: its late first bytes taught the gateway.
  const int slots = learned_slots(f, f.sim(0).id);
  EXPECT_GE(slots, 1);
  EXPECT_LE(slots, 3);
  auto after = node_of(f, f.sim(0).id);
  EXPECT_EQ(after.at("slots_source").as_string(), "learned");
  EXPECT_EQ(after.at("slots").to_number<int64_t>(), slots);
  EXPECT_GE(after.at("slots_learned").at("m:3b").at("queued").to_number<int64_t>(), 1);
}

TEST(CapacityLearning, OnceLearnedARequestPastTheSlotsGoesToTheIdleNodeAndSaysWhy) {
  Fleet f;
  f.add_sim("small", sim_args("2", true));
  f.add_sim("big", sim_args("4", false));
  f.start_gateway();
  // Four at once: the prior (4) lets them all go to small, which queues two of them.
  auto first = burst(f, 4, 20);
  EXPECT_EQ(first[f.sim(0).id], 4);
  ASSERT_TRUE(wait_for([&] { return learned_slots(f, f.sim(0).id) > 0; }, seconds(10)));
  const int slots = learned_slots(f, f.sim(0).id);
  ASSERT_GE(slots, 1);
  ASSERT_LE(slots, 3);
  // small is kept as busy as it now is known to run; the next request is one too many for it.
  std::vector<std::future<HttpReply>> busy;
  for (int i = 0; i < slots; ++i)
    busy.push_back(std::async(std::launch::async, [&f, i] { return generate_streamed(f.gateway(), fmt::format("l{}", i), 40); }));
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "active") + stat(f, 0, "waiting") == slots; }, seconds(10)));
  auto r = generate_streamed(f.gateway(), "next", 5);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-hydra-node"], f.sim(1).id) << r.headers["x-hydra-route-reason"];
  EXPECT_NE(r.headers["x-hydra-route-reason"].find("(learned)"), std::string::npos) << r.headers["x-hydra-route-reason"];
  EXPECT_EQ(stat(f, 0, "waiting"), 0) << "small should not have been sent more than it runs";
  for (auto& b : busy) EXPECT_EQ(b.get().status, 200);
}

TEST(CapacityLearning, ConfiguredSlotsAreKeptAndNeverExceeded) {
  Fleet f;
  f.add_sim("small", sim_args("2", true), "#slots=2");
  f.add_sim("big", sim_args("4", false), "#slots=4");
  f.start_gateway();
  auto by_node = burst(f, 8, 30);
  EXPECT_GE(by_node[f.sim(1).id], 2);
  EXPECT_LE(stat(f, 0, "max_in_progress"), 2) << "never more than its configured slots at small";
  auto n = node_of(f, f.sim(0).id);
  EXPECT_EQ(n.at("slots_source").as_string(), "configured");
  EXPECT_EQ(n.at("slots").to_number<int64_t>(), 2);
}
