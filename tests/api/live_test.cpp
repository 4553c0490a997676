// What watches the gateway: GET /metrics (checked by Prometheus' own promtool after real
// traffic) and GET /events (the dashboard's stream: a request shows up as a routing event).
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <sstream>

using namespace hydra::test;
namespace json = boost::json;
using namespace std::chrono;

namespace {

void start_fleet(Fleet& f) {
  for (const char* name : {"a", "b"})
    f.add_sim(name, {"--model", "llama3.2:3b=2", "--loaded", "llama3.2:3b", "--model", "nomic-embed-text:latest=0.3",
                     "--tokens-per-second", "500", "--load-seconds", "0.05"});
  f.start_gateway();
}

}  // namespace

TEST(Metrics, PromtoolAcceptsAScrapeTakenAfterTraffic) {
  Fleet f;
  start_fleet(f);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(post(f.gateway(), "/api/generate", R"({"model":"llama3.2:3b","prompt":"hi","options":{"num_predict":5}})").status, 200);
  ASSERT_EQ(post(f.gateway(), "/api/generate", R"({"model":"nope:1b","prompt":"hi"})").status, 404);
  ASSERT_EQ(post(f.gateway(), "/v1/chat/completions",
                 R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"max_tokens":3})").status, 200);
  ASSERT_EQ(post(f.gateway(), "/api/embed", R"({"model":"nomic-embed-text","input":"hello"})").status, 200);

  auto scrape = get(f.gateway(), "/metrics");
  ASSERT_EQ(scrape.status, 200);
  EXPECT_TRUE(scrape.headers["content-type"].starts_with("text/plain; version=0.0.4"));
  const std::string& m = scrape.body;
  for (const auto& want : std::vector<std::string>{
           R"(hydra_http_requests_total{route="/api/generate",status="200"} 4)",
           R"(hydra_http_requests_total{route="/api/generate",status="404"} 1)",
           R"(outcome="unroutable"} 1)",
           R"(hydra_requests_total{endpoint="/v1/chat/completions",model="llama3.2:3b",node=")",
           R"(hydra_time_to_first_byte_seconds_bucket{node="127.0.0.1:)",  // whichever node served
           R"(hydra_request_duration_seconds_count{endpoint="/api/generate"} 5)",
           "hydra_node_up{node=\"" + f.sim(1).id + "\"} 1",
           R"(hydra_queue_depth 0)",
           R"(hydra_cache_hits_total{tier="l1"} 0)",
           R"(hydra_nodes{source="configured"} 2)",
       })
    EXPECT_NE(m.find(want), std::string::npos) << want << "\n" << m;
  // Tokens generated: 4 x 5 from /api/generate, 3 from the OpenAI call, summed over both nodes.
  uint64_t tokens = 0;
  std::istringstream lines(m);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with("hydra_tokens_generated_total{model=\"llama3.2:3b\"")) tokens += std::stoull(line.substr(line.rfind(' ') + 1));
  EXPECT_EQ(tokens, 23u) << m;

  auto [status, said] = promtool_check(m, f.data_dir());
  EXPECT_EQ(status, 0) << said;
}

TEST(Events, ARequestShowsUpAsARoutingEventWhileFleetAndTrafficTick) {
  Fleet f;
  start_fleet(f);
  std::string stream;
  std::future<HttpReply> request_made;
  bool seen_routing = false, seen_tick = false;
  HttpCall c;
  c.target = "/events";
  c.timeout = seconds(10);
  c.on_data = [&](std::string_view piece) {
    stream.append(piece);
    if (!request_made.valid() && stream.find("event: hello") != std::string::npos)
      request_made = std::async(std::launch::async, [&] {
        return post(f.gateway(), "/api/chat",
                    R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"stream":false})");
      });
    std::size_t routing = stream.find("event: routing\ndata: {\"seq\":1,");
    seen_routing = routing != std::string::npos && stream.find("\n\n", routing) != std::string::npos;
    std::size_t hello = stream.find("event: hello");
    seen_tick = stream.find("event: traffic", hello) != std::string::npos &&
                stream.find("event: nodes", hello) != std::string::npos;
    return !(seen_routing && seen_tick);
  };
  auto r = request(f.gateway(), c);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  ASSERT_TRUE(request_made.valid()) << stream;
  EXPECT_EQ(request_made.get().status, 200);
  EXPECT_TRUE(seen_routing) << stream;
  EXPECT_TRUE(seen_tick) << stream;
  auto at = stream.find("event: routing\ndata: ");
  ASSERT_NE(at, std::string::npos);
  auto end = stream.find('\n', at + 21);
  auto routed = json::parse(stream.substr(at + 21, end - at - 21));
  EXPECT_EQ(routed.at("endpoint").as_string(), "/api/chat");
  EXPECT_EQ(routed.at("model").as_string(), "llama3.2:3b");
  EXPECT_FALSE(routed.at("selected_node").as_string().empty());
}
