// Hydra's own API against real `hydra sim` nodes: POST /generate (whole and streamed as SSE),
// GET /stats, /models, /routing; errors in Hydra's {"error": ...} shape.
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

using namespace hydra::test;
namespace json = boost::json;

namespace {

struct Event {
  std::string name;
  json::value data;
};

// "event: NAME\ndata: JSON\n\n" blocks.
std::vector<Event> sse_events(const std::string& body) {
  std::vector<Event> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) break;
    std::string block = body.substr(pos, end - pos);
    pos = end + 2;
    Event e;
    std::size_t nl = block.find('\n');
    if (block.rfind("event: ", 0) != 0 || nl == std::string::npos) continue;
    e.name = block.substr(7, nl - 7);
    std::string data = block.substr(nl + 1);
    if (data.rfind("data: ", 0) != 0) continue;
    e.data = json::parse(data.substr(6));
    out.push_back(std::move(e));
  }
  return out;
}

json::object parse_object(const HttpReply& r) { return json::parse(r.body).as_object(); }

// Two nodes: "coder" holds the code model, "general" only a small general model.
void start_fleet(Fleet& f) {
  f.add_sim("coder", {"--model", "qwen2.5-coder:14b=9", "--model", "qwen3:1.7b=1.1", "--loaded", "qwen2.5-coder:14b",
                      "--tokens-per-second", "400", "--load-seconds", "0.05"});
  f.add_sim("general", {"--model", "qwen3:1.7b=1.1", "--loaded", "qwen3:1.7b", "--tokens-per-second", "400",
                        "--load-seconds", "0.05"});
  f.start_gateway();
}

}  // namespace

TEST(HydraApi, GenerateWithoutAModelUsesTheCodeModelAndExplainsTheRoute) {
  Fleet f;
  start_fleet(f);
  auto r = post(f.gateway(), "/generate", R"({"prompt":"write a sort function","max_tokens":8})");
  ASSERT_EQ(r.status, 200) << r.body << f.gateway_log();
  auto o = parse_object(r);
  EXPECT_EQ(o.at("model").as_string(), "qwen2.5-coder:14b");
  EXPECT_EQ(o.at("node_id").as_string(), f.sim(0).id);
  EXPECT_EQ(o.at("node_url").as_string(), "http://" + f.sim(0).id);
  EXPECT_TRUE(o.at("response").as_string().starts_with("coder")) << o.at("response");
  const auto& d = o.at("routing_decision").as_object();
  EXPECT_TRUE(d.at("requested_node").is_null());
  EXPECT_EQ(d.at("selected_node").as_string(), f.sim(0).id);
  EXPECT_FALSE(d.at("reason").as_string().empty());
  EXPECT_EQ(d.at("candidates").as_array().size(), 1u);
  const auto& t = o.at("timings").as_object();
  EXPECT_GT(t.at("total_ms").to_number<double>(), 0);
  EXPECT_EQ(t.at("eval_count").to_number<int64_t>(), 8);  // max_tokens became num_predict
  EXPECT_EQ(o.at("done_reason").as_string(), "length");
  EXPECT_FALSE(o.at("cached").as_bool());
}

TEST(HydraApi, GenerateHonoursAnExplicitNode) {
  Fleet f;
  start_fleet(f);
  std::string body = R"({"prompt":"hello","model":"qwen3:1.7b","node_id":")" + f.sim(1).id + R"(","priority":9})";
  for (int i = 0; i < 3; ++i) {
    auto r = post(f.gateway(), "/generate", body);
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = parse_object(r);
    EXPECT_EQ(o.at("node_id").as_string(), f.sim(1).id);
    EXPECT_EQ(o.at("routing_decision").at("requested_node").as_string(), f.sim(1).id);
  }
}

TEST(HydraApi, GenerateStreamSendsChunksThenTheWholeResult) {
  Fleet f;
  start_fleet(f);
  for (const char* target : {"/generate/stream", "/generate"}) {
    std::string body = R"({"prompt":"stream please","model":"qwen3:1.7b","max_tokens":12)";
    body += std::string(target) == "/generate" ? R"(,"stream":true})" : "}";
    auto r = post(f.gateway(), target, body);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["content-type"], "text/event-stream");
    EXPECT_FALSE(r.headers["x-hydra-node"].empty());
    auto events = sse_events(r.body);
    ASSERT_GE(events.size(), 3u) << r.body;
    std::string joined;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
      EXPECT_EQ(events[i].name, "chunk");
      joined += events[i].data.at("response").as_string();
    }
    EXPECT_EQ(events.back().name, "done");
    EXPECT_EQ(events.back().data.at("response").as_string(), joined);
    EXPECT_EQ(events.back().data.at("timings").at("eval_count").to_number<int64_t>(), 12);
  }
}

TEST(HydraApi, GenerateErrorsHaveHydrasShapeAndStatus) {
  Fleet f;
  start_fleet(f);
  struct Case {
    std::string body;
    int status;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {"", 400, "missing request body"},
           {"not json", 400, ""},
           {R"({"model":"qwen3:1.7b"})", 400, "prompt is required"},
           {R"({"prompt":7})", 400, "prompt"},
           {R"({"prompt":"x","priority":"high"})", 400, "priority"},
           {R"({"prompt":"x","priority":11})", 400, "priority"},
           {R"({"prompt":"x","max_tokens":0})", 400, "max_tokens"},
           {R"({"prompt":"x","stream":"yes"})", 400, "stream"},
           {R"({"prompt":"x","model":"missing:1b"})", 404, "not found"},
       }) {
    auto r = post(f.gateway(), "/generate", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    auto o = parse_object(r);
    ASSERT_TRUE(o.at("error").is_string()) << r.body;
    EXPECT_NE(std::string(o.at("error").as_string()).find(c.says), std::string::npos) << r.body;
  }
  // Unknown fields are ignored.
  EXPECT_EQ(post(f.gateway(), "/generate", R"({"prompt":"x","model":"qwen3:1.7b","colour":"blue"})").status, 200);
}

TEST(HydraApi, StatsModelsAndRoutingDescribeWhatHappened) {
  Fleet f;
  start_fleet(f);
  ASSERT_EQ(post(f.gateway(), "/generate", R"({"prompt":"one","model":"qwen3:1.7b"})").status, 200);
  ASSERT_EQ(post(f.gateway(), "/api/generate", R"({"model":"qwen2.5-coder:14b","prompt":"two","stream":false})").status, 200);
  ASSERT_EQ(post(f.gateway(), "/generate", R"({"prompt":"x","model":"missing:1b"})").status, 404);

  auto stats = parse_object(get(f.gateway(), "/stats"));
  const auto& by_endpoint = stats.at("requests").at("by_endpoint").as_object();
  EXPECT_EQ(by_endpoint.at("/generate").at("by_status").at("200").to_number<uint64_t>(), 1u);
  EXPECT_EQ(by_endpoint.at("/generate").at("by_status").at("404").to_number<uint64_t>(), 1u);
  EXPECT_EQ(by_endpoint.at("/api/generate").at("by_status").at("200").to_number<uint64_t>(), 1u);
  EXPECT_EQ(stats.at("cluster").at("nodes_total").to_number<int64_t>(), 2);
  EXPECT_EQ(stats.at("cluster").at("nodes_healthy").to_number<int64_t>(), 2);
  EXPECT_EQ(stats.at("routing").at("decisions").to_number<uint64_t>(), 3u);
  EXPECT_EQ(stats.at("routing").at("unserved").to_number<uint64_t>(), 1u);
  EXPECT_EQ(stats.at("queue").at("waiting").to_number<uint64_t>(), 0u);
  EXPECT_TRUE(stats.at("cache").is_object());

  auto models = parse_object(get(f.gateway(), "/models")).at("models").as_array();
  ASSERT_EQ(models.size(), 2u);
  const auto& small = models[1].as_object();  // sorted by name: qwen2.5-coder:14b, qwen3:1.7b
  EXPECT_EQ(small.at("name").as_string(), "qwen3:1.7b");
  EXPECT_EQ(small.at("nodes").as_array().size(), 2u);
  EXPECT_GE(small.at("resident_on").as_array().size(), 1u);
  EXPECT_EQ(small.at("size").to_number<int64_t>(), 1'100'000'000);

  auto routing = parse_object(get(f.gateway(), "/routing"));
  auto decisions = routing.at("decisions").as_array();
  ASSERT_EQ(decisions.size(), 3u);
  EXPECT_EQ(decisions[0].at("endpoint").as_string(), "/generate");
  EXPECT_EQ(decisions[1].at("endpoint").as_string(), "/api/generate");
  EXPECT_EQ(decisions[1].at("selected_node").as_string(), f.sim(0).id);
  EXPECT_TRUE(decisions[2].at("selected_node").is_null());
  EXPECT_FALSE(decisions[2].at("error").as_string().empty());
  // ?after= gives only newer entries, ?limit= the newest few.
  auto seq = decisions[1].at("seq").to_number<int64_t>();
  auto newer = parse_object(get(f.gateway(), "/routing?after=" + std::to_string(seq))).at("decisions").as_array();
  ASSERT_EQ(newer.size(), 1u);
  auto last = parse_object(get(f.gateway(), "/routing?limit=1")).at("decisions").as_array();
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].at("seq"), decisions[2].at("seq"));
}

TEST(HydraApi, HealthIsHealthyThenDegradedThenUnhealthyAsNodesDie) {
  Fleet f;
  start_fleet(f);
  auto health = [&] { return get(f.gateway(), "/health"); };
  auto r = health();
  ASSERT_EQ(r.status, 200) << r.body;
  auto o = parse_object(r);
  EXPECT_EQ(o.at("status").as_string(), "healthy");
  EXPECT_EQ(o.at("components").at("nodes").at("healthy").to_number<int64_t>(), 2);
  EXPECT_EQ(o.at("components").at("nodes").at("total").to_number<int64_t>(), 2);
  EXPECT_EQ(o.at("components").at("database").at("status").as_string(), "healthy");
  EXPECT_TRUE(o.at("components").at("queue").is_object());
  EXPECT_TRUE(o.at("components").at("cache").is_object());
  EXPECT_FALSE(o.at("version").as_string().empty());
  EXPECT_GE(o.at("uptime_s").to_number<double>(), 0);

  f.sim(1).process->kill_now();
  ASSERT_TRUE(wait_for([&] { return parse_object(health()).at("status") == "degraded"; }, std::chrono::seconds(15)))
      << health().body;
  EXPECT_EQ(health().status, 200);
  f.sim(0).process->kill_now();
  ASSERT_TRUE(wait_for([&] { return health().status == 503; }, std::chrono::seconds(15))) << health().body;
  EXPECT_EQ(parse_object(health()).at("status").as_string(), "unhealthy");
}
