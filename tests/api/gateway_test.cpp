// hydra serve in front of real hydra sim processes: relaying, unions, errors, routing,
// failover and cancellation, end to end over loopback.
#include "support/fleet.hpp"
#include "support/sim_harness.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <future>
#include <gtest/gtest.h>
#include <set>
#include <thread>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

std::string gen(const std::string& model, const std::string& prompt, bool stream, const std::string& extra = "") {
  return fmt::format(R"({{"model":"{}","prompt":"{}","stream":{}{}}})", model, prompt, stream ? "true" : "false", extra);
}

int64_t stat(Fleet& f, std::size_t i, const char* key) {
  auto s = f.sim_stats(i);
  return s.is_object() ? s.at(key).to_number<int64_t>() : -1;
}

std::vector<std::string> common_args(double tps) {
  return {"--model", "llama3.2:3b=2", "--loaded", "llama3.2:3b", "--tokens-per-second", fmt::format("{}", tps),
          "--load-seconds", "0.1"};
}

}  // namespace

TEST(Gateway, StreamsIncrementallyWhileTheNodeGenerates) {
  Fleet f;
  f.add_sim("a", common_args(20));
  f.start_gateway();
  std::vector<steady_clock::time_point> pieces;
  HttpCall c;
  c.method = "POST";
  c.target = "/api/generate";
  c.body = gen("llama3.2:3b", "tell me more", true);
  c.on_data = [&](std::string_view) { pieces.push_back(steady_clock::now()); return true; };
  auto r = request(f.gateway(), c);
  ASSERT_EQ(r.status, 200) << f.gateway_log();
  EXPECT_EQ(r.headers["x-hydra-node"], f.sim(0).id);
  EXPECT_FALSE(r.headers["x-hydra-route-reason"].empty());
  auto lines = ndjson(r.body);
  ASSERT_GE(lines.size(), 10u);
  EXPECT_TRUE(lines.back().at("done").as_bool());
  // At 20 tokens/s the reply takes more than half a second; pieces must arrive across it.
  ASSERT_GE(pieces.size(), 5u);
  EXPECT_GT(pieces.back() - pieces.front(), milliseconds(300));
}

TEST(Gateway, TagsAndPsAreUnionsOverNodes) {
  Fleet f;
  f.add_sim("a", {"--model", "shared:1b=1", "--model", "only-a:1b=1", "--loaded", "shared:1b"});
  f.add_sim("b", {"--model", "shared:1b=1", "--model", "only-b:1b=1", "--loaded", "only-b:1b"});
  f.start_gateway();
  auto tags = json::parse(get(f.gateway(), "/api/tags").body).at("models").as_array();
  std::multiset<std::string> names;
  for (auto& m : tags) {
    names.insert(std::string(m.at("name").as_string()));
    for (const char* k : {"model", "modified_at", "size", "digest", "details"}) EXPECT_TRUE(m.as_object().contains(k)) << k;
  }
  EXPECT_EQ(names, (std::multiset<std::string>{"only-a:1b", "only-b:1b", "shared:1b"}));
  auto ps = json::parse(get(f.gateway(), "/api/ps").body).at("models").as_array();
  std::set<std::pair<std::string, std::string>> resident;
  for (auto& m : ps) resident.insert({std::string(m.at("name").as_string()), std::string(m.at("node").as_string())});
  EXPECT_EQ(resident, (std::set<std::pair<std::string, std::string>>{{"shared:1b", f.sim(0).id}, {"only-b:1b", f.sim(1).id}}));
  EXPECT_EQ(get(f.gateway(), "/").body, "Ollama is running");
  EXPECT_EQ(json::parse(get(f.gateway(), "/api/version").body).at("version"), "0.12.6");
}

TEST(Gateway, ErrorsHaveOllamasShapeAndStatus) {
  Fleet f;
  f.add_sim("a", common_args(200));
  f.start_gateway({"HYDRA_BODY_LIMIT_MB=1"});
  auto unknown = post(f.gateway(), "/api/generate", gen("nope", "x", false));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, R"({"error":"model \"nope\" not found, try pulling it first"})");
  auto missing = post(f.gateway(), "/api/chat", R"({"messages":[]})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body, R"({"error":"model is required"})");
  EXPECT_EQ(post(f.gateway(), "/api/generate", "{oops").status, 400);
  EXPECT_EQ(post(f.gateway(), "/api/generate", "").body, R"({"error":"missing request body"})");
  auto big = post(f.gateway(), "/api/chat", std::string(2 << 20, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.body, R"({"error":"request body too large"})");
  // A known path with another method: 405 in the same shape, and Allow names the method it takes.
  auto wrong = call(f.gateway(), "GET", "/api/chat", "", {});
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.body, R"({"error":"method GET is not allowed on /api/chat: it takes POST"})");
  EXPECT_EQ(wrong.headers["allow"], "POST");
  // Each counted by route and status, the 413 refused before any handler among them.
  json::value statuses;
  EXPECT_TRUE(wait_for([&] {
    statuses = json::parse(get(f.gateway(), "/stats").body).at("requests").at("by_endpoint").at("/api/chat").at("by_status");
    return statuses.as_object().contains("413") && statuses.as_object().contains("405");
  }, seconds(10))) << json::serialize(statuses);
  const std::string metrics = get(f.gateway(), "/metrics").body;
  EXPECT_NE(metrics.find(R"(hydra_http_requests_total{route="/api/chat",status="413"} 1)"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(hydra_http_requests_total{route="/api/chat",status="405"} 1)"), std::string::npos) << metrics;
}

TEST(Gateway, ModelOnOneNodeIsAlwaysServedThere) {
  Fleet f;
  f.add_sim("a", {"--model", "common:1b=1", "--tokens-per-second", "500"});
  f.add_sim("b", {"--model", "common:1b=1", "--model", "rare:1b=1", "--tokens-per-second", "500", "--load-seconds", "0"});
  f.add_sim("c", {"--model", "common:1b=1", "--tokens-per-second", "500"});
  f.start_gateway();
  for (int i = 0; i < 8; ++i) {
    auto r = post(f.gateway(), "/api/generate", gen("rare:1b", fmt::format("q{}", i), false, R"(,"options":{"num_predict":2})"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["x-hydra-node"], f.sim(1).id);
    EXPECT_EQ(std::string(json::parse(r.body).at("response").as_string()).rfind("b:", 0), 0u);
  }
}

TEST(Gateway, ConcurrentRequestsSpreadAcrossNodes) {
  Fleet f;
  for (const char* n : {"a", "b", "c"}) f.add_sim(n, common_args(40));
  f.start_gateway();
  std::vector<std::future<HttpReply>> calls;
  for (int i = 0; i < 9; ++i)
    calls.push_back(std::async(std::launch::async, [&, i] {
      return post(f.gateway(), "/api/generate", gen("llama3.2:3b", fmt::format("p{}", i), false, R"(,"options":{"num_predict":20})"));
    }));
  std::set<std::string> nodes;
  for (auto& c : calls) {
    auto r = c.get();
    ASSERT_EQ(r.status, 200) << r.body;
    nodes.insert(r.headers["x-hydra-node"]);
  }
  EXPECT_EQ(nodes.size(), 3u);
}

TEST(Gateway, KillingANodeUnderLoadLosesNoRequest) {
  Fleet f;
  for (const char* n : {"a", "b", "c"}) f.add_sim(n, common_args(400));
  f.start_gateway();
  constexpr int kRequests = 200, kWorkers = 16;
  std::atomic<int> next{0}, done{0};
  std::vector<int> statuses(kRequests, -1);
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w)
    workers.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) < kRequests;) {
        statuses[i] = post(f.gateway(), "/api/generate",
                           gen("llama3.2:3b", fmt::format("r{}", i), false, R"(,"options":{"num_predict":8})")).status;
        done.fetch_add(1);
      }
    });
  ASSERT_TRUE(wait_for([&] { return done.load() >= 30; }, seconds(30)));
  f.sim(1).process->kill_now();
  for (auto& t : workers) t.join();
  int ok = 0;
  for (int s : statuses) ok += s == 200;
  EXPECT_EQ(ok, kRequests) << f.gateway_log();
  EXPECT_GE(stat(f, 0, "completed") + stat(f, 2, "completed"), kRequests - 30);
}

TEST(Gateway, ARequestWaitingOnANodeThatFreezesFailsOverWhenTheNodeIsEjected) {
  Fleet f;
  f.add_sim("a", common_args(5));  // replies of 50 tokens take 10 s: the head comes only at the end
  f.add_sim("b", common_args(400));
  f.start_gateway();
  std::promise<HttpReply> reply;
  auto waiting = std::async(std::launch::async, [&] {
    HttpCall c;
    c.method = "POST";
    c.target = "/api/generate";
    c.body = gen("llama3.2:3b", "frozen", false, R"(,"options":{"num_predict":50})");
    c.headers = {{"X-Hydra-Node", f.sim(0).id}};
    c.timeout = seconds(40);  // far below the 300 s first-byte timeout
    return request(f.gateway(), c);
  });
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "active") == 1; }, seconds(10)));
  f.sim(0).process->freeze();
  auto r = waiting.get();
  f.sim(0).process->thaw();
  ASSERT_EQ(r.status, 200) << r.body << f.gateway_log();
  EXPECT_EQ(r.headers["x-hydra-node"], f.sim(1).id);
  EXPECT_NE(f.gateway_log().find("ejected before it replied"), std::string::npos) << f.gateway_log();
}

TEST(Gateway, FailsOverWhenANodeErrorsBeforeTheFirstByte) {
  Fleet f;
  f.add_sim("a", common_args(400));
  f.add_sim("b", common_args(400));
  f.start_gateway();
  ASSERT_EQ(post(f.sim(0).endpoint, "/_sim/fault", R"({"mode":"error500"})").status, 200);
  ASSERT_EQ(post(f.sim(1).endpoint, "/_sim/fault", R"({"mode":"refuse"})").status, 200);
  auto none = post(f.gateway(), "/api/generate", gen("llama3.2:3b", "x", false));
  EXPECT_EQ(none.status, 500);  // every node failed: the last node's own error is passed on
  post(f.sim(0).endpoint, "/_sim/fault", R"({"mode":"none"})");
  for (int i = 0; i < 5; ++i) {
    auto r = post(f.gateway(), "/api/generate", gen("llama3.2:3b", fmt::format("y{}", i), false));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["x-hydra-node"], f.sim(0).id);
    // Sent to b first: the reason names the node that served it before the first choice.
    const std::string reason = r.headers["x-hydra-route-reason"];
    if (reason.find("attempt 2") != std::string::npos) EXPECT_EQ(reason.rfind("failed over to " + f.sim(0).id, 0), 0u) << reason;
    else EXPECT_EQ(reason.find(f.sim(1).id), std::string::npos) << reason;
  }
}

TEST(Gateway, FailureAfterTheFirstByteEndsTheStreamWithAnErrorLine) {
  Fleet f;
  f.add_sim("a", common_args(100));
  f.start_gateway();
  post(f.sim(0).endpoint, "/_sim/fault", R"({"mode":"cut","after_chunks":3})");
  auto r = post(f.gateway(), "/api/generate", gen("llama3.2:3b", "x", true));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);  // the gateway ends its own stream properly
  auto lines = ndjson(r.body);
  ASSERT_EQ(lines.size(), 4u) << r.body;
  EXPECT_NE(std::string(lines.back().at("error").as_string()).find("failed mid-stream"), std::string::npos);
}

TEST(Gateway, ClientThatLeavesMidStreamStopsTheNode) {
  Fleet f;
  f.add_sim("a", common_args(20));
  f.start_gateway();
  int pieces = 0;
  HttpCall c;
  c.method = "POST";
  c.target = "/api/chat";
  c.body = R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"a long story"}]})";
  c.on_data = [&](std::string_view) { return ++pieces < 2; };
  request(f.gateway(), c);
  EXPECT_TRUE(wait_for([&] { return stat(f, 0, "cancelled") == 1; }, seconds(10))) << f.gateway_log();
  EXPECT_EQ(stat(f, 0, "completed"), 0);
}
