// Resource-aware scheduling end to end: hydra serve in front of hydra sim processes whose
// capacity the gateway is told (--node URL#vram=..,slots=..).
#include "support/fleet.hpp"
#include "support/sim_harness.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <future>
#include <gtest/gtest.h>
#include <mutex>
#include <set>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

HttpReply generate(const Endpoint& gw, const std::string& model, const std::string& prompt,
                   std::map<std::string, std::string> headers = {}, int num_predict = 4) {
  HttpCall c;
  c.method = "POST";
  c.target = "/api/generate";
  c.body = fmt::format(R"({{"model":"{}","prompt":"{}","stream":false,"options":{{"num_predict":{}}}}})", model,
                       prompt, num_predict);
  c.headers = std::move(headers);
  c.timeout = seconds(30);
  return request(gw, c);
}

int64_t stat(Fleet& f, std::size_t i, const char* key) {
  auto s = f.sim_stats(i);
  return s.is_object() ? s.at(key).to_number<int64_t>() : -1;
}

std::vector<std::string> sim_args(std::vector<std::string> extra, double tps = 400) {
  std::vector<std::string> a{"--tokens-per-second", fmt::format("{}", tps), "--load-seconds", "0.05"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace

TEST(Scheduling, HostOutOfVramSendsTheModelToANodeWithRoom) {
  Fleet f;
  // Node a's 8 GB of VRAM are taken by another model that is busy; node b has 24 GB free.
  f.add_sim("a", sim_args({"--vram-gb", "8", "--model", "big:14b=6", "--model", "other:7b=7", "--loaded", "other:7b"}, 20),
            "#vram=8");
  f.add_sim("b", sim_args({"--vram-gb", "24", "--model", "big:14b=6"}), "#vram=24");
  f.start_gateway();
  auto busy = std::async(std::launch::async, [&] { return generate(f.gateway(), "other:7b", "long", {}, 40); });
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "active") == 1; }, seconds(10)));
  auto r = generate(f.gateway(), "big:14b", "hello");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-hydra-node"], f.sim(1).id) << r.headers["x-hydra-route-reason"];
  EXPECT_NE(r.headers["x-hydra-route-reason"].find("fits in free VRAM"), std::string::npos);
  EXPECT_EQ(busy.get().status, 200);
}

TEST(Scheduling, MinVramThatNoNodeMeetsGoesToTheBestAvailableAndSaysSo) {
  Fleet f;
  f.add_sim("a", sim_args({"--model", "m:7b=4"}), "#vram=8");
  f.add_sim("b", sim_args({"--model", "m:7b=4"}), "#vram=16");
  f.start_gateway();
  auto met = generate(f.gateway(), "m:7b", "x", {{"X-Hydra-Min-VRAM-GB", "12"}});
  ASSERT_EQ(met.status, 200);
  EXPECT_EQ(met.headers["x-hydra-node"], f.sim(1).id);
  auto unmet = generate(f.gateway(), "m:7b", "y", {{"X-Hydra-Min-VRAM-GB", "64"}});
  ASSERT_EQ(unmet.status, 200);
  EXPECT_NE(unmet.headers["x-hydra-route-reason"].find("no node has 64 GB of VRAM free; best available instead"),
            std::string::npos) << unmet.headers["x-hydra-route-reason"];
  EXPECT_EQ(generate(f.gateway(), "m:7b", "z", {{"X-Hydra-Min-VRAM-GB", "lots"}}).status, 400);
}

TEST(Scheduling, ExplicitNodeIsHonouredAndAnUnhealthyOneFallsBackWithAReason) {
  Fleet f;
  f.add_sim("a", sim_args({"--model", "m:7b=4", "--loaded", "m:7b"}));
  f.add_sim("b", sim_args({"--model", "m:7b=4"}));
  f.start_gateway();
  for (int i = 0; i < 3; ++i) {
    auto r = generate(f.gateway(), "m:7b", fmt::format("p{}", i), {{"X-Hydra-Node", f.sim(1).id}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["x-hydra-node"], f.sim(1).id);
    EXPECT_NE(r.headers["x-hydra-route-reason"].find("requested"), std::string::npos);
  }
  f.sim(1).process->kill_now();
  // The gateway notices (a failed attempt or probe ejects it) and then says why it routed elsewhere.
  ASSERT_TRUE(wait_for([&] {
    auto r = generate(f.gateway(), "m:7b", "q", {{"X-Hydra-Node", f.sim(1).id}});
    return r.status == 200 && r.headers["x-hydra-route-reason"].find("requested node " + f.sim(1).id + " is") != std::string::npos;
  }, seconds(15))) << f.gateway_log();
  auto r = generate(f.gateway(), "m:7b", "last", {{"X-Hydra-Node", f.sim(1).id}});
  EXPECT_EQ(r.headers["x-hydra-node"], f.sim(0).id);
}

TEST(Scheduling, GpuToCpuFallbackWhenNoGpuNodeCanServe) {
  Fleet f;
  f.add_sim("gpu", sim_args({"--vram-gb", "24", "--model", "m:7b=4"}), "#vram=24");
  f.add_sim("cpu", sim_args({"--vram-gb", "0", "--model", "m:7b=4"}), "#vram=0");
  f.start_gateway();
  auto first = generate(f.gateway(), "m:7b", "x");
  EXPECT_EQ(first.headers["x-hydra-node"], f.sim(0).id);  // the GPU while it is there
  post(f.sim(0).endpoint, "/_sim/fault", R"({"mode":"refuse"})");
  HttpReply r;
  ASSERT_TRUE(wait_for([&] {
    r = generate(f.gateway(), "m:7b", "y");
    return r.status == 200 && r.headers["x-hydra-node"] == f.sim(1).id &&
           r.headers["x-hydra-route-reason"].find("CPU fallback") != std::string::npos;
  }, seconds(15))) << r.status << " " << r.headers["x-hydra-node"] << " " << r.headers["x-hydra-route-reason"];
}

TEST(Scheduling, ResidentModelBeatsAnEmptierNodeThatWouldNeedAColdLoad) {
  Fleet f;
  f.add_sim("warm", sim_args({"--model", "m:7b=4", "--loaded", "m:7b"}, 20), "#vram=24,slots=4");
  f.add_sim("cold", sim_args({"--model", "m:7b=4"}, 20), "#vram=24,slots=4");
  f.start_gateway();
  // Keep the warm node partly busy, then ask again: it still wins over the idle cold one.
  auto busy = std::async(std::launch::async, [&] { return generate(f.gateway(), "m:7b", "long", {}, 30); });
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "active") == 1; }, seconds(10)));
  auto r = generate(f.gateway(), "m:7b", "short");
  EXPECT_EQ(r.headers["x-hydra-node"], f.sim(0).id) << r.headers["x-hydra-route-reason"];
  EXPECT_EQ(busy.get().status, 200);
  EXPECT_EQ(stat(f, 1, "loads"), 0);
}

TEST(Scheduling, UnderSaturationHighPriorityGoesFirstAndLowPriorityStillCompletes) {
  Fleet f;
  f.add_sim("only", sim_args({"--model", "m:7b=4", "--loaded", "m:7b", "--parallel", "1"}, 100), "#slots=1");
  f.start_gateway();
  std::mutex mu;
  std::vector<std::string> finished;
  auto run = [&](std::string name, std::string priority, int tokens) {
    auto r = generate(f.gateway(), "m:7b", name, {{"X-Hydra-Priority", priority}}, tokens);
    std::lock_guard lock(mu);
    finished.push_back(name + ":" + std::to_string(r.status));
  };
  auto blocker = std::async(std::launch::async, run, "blocker", "5", 150);  // holds the only slot ~1.5 s
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "active") == 1; }, seconds(10)));
  std::vector<std::future<void>> lows;
  for (int i = 0; i < 3; ++i) lows.push_back(std::async(std::launch::async, run, fmt::format("low{}", i), "1", 2));
  // The high-priority request arrives last, behind three queued low-priority ones.
  ASSERT_TRUE(wait_for([&] { return f.gateway_log().find("(3 waiting)") != std::string::npos; }, seconds(10)));
  auto high = std::async(std::launch::async, run, "high", "10", 2);
  blocker.get();
  high.get();
  for (auto& l : lows) l.get();
  ASSERT_EQ(finished.size(), 5u);
  EXPECT_EQ(finished[0], "blocker:200");
  EXPECT_EQ(finished[1], "high:200") << fmt::format("{}", fmt::join(finished, ", "));
  for (std::size_t i = 2; i < 5; ++i) EXPECT_NE(finished[i].find(":200"), std::string::npos);
}

// A waiter whose queue.timeout_s runs out: 503 with Ollama's "server busy" and what happened.
TEST(Scheduling, AWaitPastTheQueueTimeoutIs503SayingSo) {
  Fleet f;
  // Two tokens a second: the first request's reply (its few tokens) holds the only slot for seconds.
  f.add_sim("only", sim_args({"--model", "m:7b=4", "--loaded", "m:7b", "--parallel", "1"}, 2), "#slots=1");
  f.start_gateway({"HYDRA_QUEUE_TIMEOUT=1"});
  auto running = std::async(std::launch::async, [&] { return generate(f.gateway(), "m:7b", "a"); });
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "active") == 1; }, seconds(10)));
  HttpReply late = generate(f.gateway(), "m:7b", "b");
  EXPECT_EQ(late.status, 503);
  EXPECT_EQ(late.body,
            R"x({"error":"server busy, please try again.  no slot came free within 1 s in the queue (queue.timeout_s)"})x");
  EXPECT_TRUE(late.headers.count("retry-after"));
  EXPECT_EQ(running.get().status, 200);
}

TEST(Scheduling, FullQueueIs503WithRetryAfter) {
  Fleet f;
  f.add_sim("only", sim_args({"--model", "m:7b=4", "--loaded", "m:7b", "--parallel", "1"}, 50), "#slots=1");
  f.start_gateway({"HYDRA_QUEUE_MAX=1"});
  auto running = std::async(std::launch::async, [&] { return generate(f.gateway(), "m:7b", "a", {}, 30); });
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "active") == 1; }, seconds(10)));
  // Two more behind the busy slot: the queue holds one, the other is refused at once.
  auto b = std::async(std::launch::async, [&] { return generate(f.gateway(), "m:7b", "b"); });
  auto c = std::async(std::launch::async, [&] { return generate(f.gateway(), "m:7b", "c"); });
  HttpReply rb = b.get(), rc = c.get();
  const HttpReply& refused = rb.status == 503 ? rb : rc;
  const HttpReply& served = rb.status == 503 ? rc : rb;
  EXPECT_EQ(served.status, 200);
  ASSERT_EQ(refused.status, 503);
  EXPECT_EQ(refused.body, R"({"error":"server busy, please try again.  maximum pending requests exceeded"})");
  ASSERT_TRUE(refused.headers.count("retry-after"));
  EXPECT_GE(std::stoi(refused.headers.at("retry-after")), 1);
  EXPECT_EQ(running.get().status, 200);
}

TEST(Scheduling, AClientThatLeavesTheQueueNeverReachesTheNode) {
  Fleet f;
  f.add_sim("only", sim_args({"--model", "m:7b=4", "--loaded", "m:7b", "--parallel", "1"}, 50), "#slots=1");
  f.start_gateway();
  auto running = std::async(std::launch::async, [&] { return generate(f.gateway(), "m:7b", "a", {}, 30); });
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "active") == 1; }, seconds(10)));
  HttpCall c;
  c.method = "POST";
  c.target = "/api/generate";
  c.body = R"({"model":"m:7b","prompt":"gives up","stream":false})";
  c.timeout = milliseconds(150);  // leaves while still queued
  EXPECT_EQ(request(f.gateway(), c).status, 0);
  EXPECT_EQ(running.get().status, 200);
  auto after = generate(f.gateway(), "m:7b", "next");
  EXPECT_EQ(after.status, 200);
  auto by_model = f.sim_stats(0).at("requests_by_model");
  EXPECT_EQ(by_model.at("m:7b").to_number<int>(), 2);  // "a" and "next", never "gives up"
}

TEST(Scheduling, ABurstForAModelResidentNowhereCausesOneColdLoad) {
  Fleet f;
  for (const char* n : {"a", "b"}) f.add_sim(n, {"--model", "m:7b=4", "--load-seconds", "0.5", "--tokens-per-second", "200"}, "#vram=24,slots=4");
  f.start_gateway();
  std::vector<std::future<HttpReply>> burst;
  for (int i = 0; i < 4; ++i)
    burst.push_back(std::async(std::launch::async, [&, i] { return generate(f.gateway(), "m:7b", fmt::format("b{}", i)); }));
  std::set<std::string> nodes;
  for (auto& b : burst) {
    auto r = b.get();
    ASSERT_EQ(r.status, 200) << r.body;
    nodes.insert(r.headers["x-hydra-node"]);
  }
  EXPECT_EQ(nodes.size(), 1u) << "the followers should join the first load";
  EXPECT_EQ(stat(f, 0, "loads") + stat(f, 1, "loads"), 1);
}

TEST(Scheduling, AWaiterTakesAnIdleNodeOnceWaitingCostsMoreThanALoad) {
  Fleet f;
  // Replies are at least 15 tokens long: 15 at 5 tokens/s keep a slot for 3 s.
  f.add_sim("warm", sim_args({"--model", "m:7b=1", "--loaded", "m:7b", "--parallel", "1"}, 5), "#vram=24,slots=1");
  f.add_sim("idle", sim_args({"--model", "m:7b=1"}), "#vram=24,slots=4");
  f.start_gateway();
  // The warm node's only slot is taken for 3 s; a cold load of a 1 GB model is reckoned at 1.5 s.
  auto busy = std::async(std::launch::async, [&] { return generate(f.gateway(), "m:7b", "long", {}, 15); });
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "active") == 1; }, seconds(10)));
  auto r = generate(f.gateway(), "m:7b", "next");
  ASSERT_EQ(r.status, 200) << r.body;
  // An idle node frees no slot, so only the waiter's own wake-up can send it there.
  EXPECT_EQ(r.headers["x-hydra-node"], f.sim(1).id) << r.headers["x-hydra-route-reason"];
  EXPECT_EQ(stat(f, 1, "loads"), 1);
  EXPECT_EQ(busy.get().status, 200);
}

TEST(Scheduling, AWaiterNeverEvictsAModelInUseToLoadItsOwn) {
  Fleet f;
  f.add_sim("warm", sim_args({"--model", "m:7b=1", "--loaded", "m:7b", "--parallel", "1"}, 5), "#vram=24,slots=1");
  // 8 GB, 7.5 of them held by another model that is busy: m:7b fits only by evicting it.
  f.add_sim("full", sim_args({"--vram-gb", "8", "--model", "m:7b=1", "--model", "other:7b=7.5", "--loaded", "other:7b"}, 3),
            "#vram=8,slots=4");
  f.start_gateway();
  auto other = std::async(std::launch::async, [&] { return generate(f.gateway(), "other:7b", "long", {}, 15); });  // 5 s
  ASSERT_TRUE(wait_for([&] { return stat(f, 1, "active") == 1; }, seconds(10)));
  auto busy = std::async(std::launch::async, [&] { return generate(f.gateway(), "m:7b", "long", {}, 15); });  // 3 s
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "active") == 1; }, seconds(10)));
  auto r = generate(f.gateway(), "m:7b", "next");  // waits past its cold-load point (1.5 s): still no eviction
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-hydra-node"], f.sim(0).id) << r.headers["x-hydra-route-reason"];
  EXPECT_EQ(stat(f, 1, "evictions"), 0);
  EXPECT_EQ(busy.get().status, 200);
  EXPECT_EQ(other.get().status, 200);
}
