// What watches the gateway: GET /metrics (checked by Prometheus' own promtool after real
// traffic) and GET /events (the dashboard's stream: a request shows up as a routing event).
#include "support/fleet.hpp"

#include <algorithm>
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

namespace {

json::array requests_at(const Fleet& f, const std::string& query) {
  auto r = get(f.gateway(), "/requests" + query);
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body).at("requests").as_array();
}

uint64_t sum_over(const json::array& seconds, const std::string& node = {}) {
  uint64_t n = 0;
  for (const auto& s : seconds) {
    if (node.empty()) n += s.at("requests").to_number<uint64_t>();
    else if (auto* c = s.at("nodes").as_object().if_contains(node)) n += c->at("requests").to_number<uint64_t>();
  }
  return n;
}

}  // namespace

TEST(Requests, EachRequestIsListedNewestFirstWithItsTraceAndTheFiltersNarrowTheList) {
  Fleet f;
  start_fleet(f);
  const std::string a = f.sim(0).id, b = f.sim(1).id;
  const std::string gen = R"({"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":5}})";
  ASSERT_EQ(call(f.gateway(), "POST", "/api/generate", gen, {{"X-Hydra-Node", a}, {"X-Request-Id", "req-one"}}).status, 200);
  ASSERT_EQ(call(f.gateway(), "POST", "/api/generate", gen, {{"X-Hydra-Node", b}}).status, 200);
  ASSERT_EQ(post(f.gateway(), "/api/generate", R"({"model":"nope:1b","prompt":"hi"})").status, 404);
  ASSERT_EQ(post(f.gateway(), "/v1/chat/completions",
                 R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"max_tokens":3})").status, 200);

  auto all = requests_at(f, "");
  ASSERT_EQ(all.size(), 4u);
  for (std::size_t i = 1; i < all.size(); ++i)
    EXPECT_GT(all[i - 1].at("seq").to_number<uint64_t>(), all[i].at("seq").to_number<uint64_t>()) << "newest first";
  const auto& openai = all[0].as_object();
  EXPECT_EQ(openai.at("endpoint").as_string(), "/v1/chat/completions");
  EXPECT_EQ(openai.at("status").as_int64(), 200);
  EXPECT_EQ(openai.at("tokens_out").to_number<uint64_t>(), 3u);
  const auto& unroutable = all[1].as_object();
  EXPECT_EQ(unroutable.at("outcome").as_string(), "unroutable");
  EXPECT_EQ(unroutable.at("status").as_int64(), 404);
  EXPECT_TRUE(unroutable.at("node").is_null());
  EXPECT_FALSE(unroutable.at("routing").at("error").as_string().empty());
  const auto& first = all[3].as_object();
  EXPECT_EQ(first.at("request_id").as_string(), "req-one");
  EXPECT_EQ(first.at("client").as_string(), "127.0.0.1");
  EXPECT_EQ(first.at("method").as_string(), "POST");
  EXPECT_EQ(first.at("endpoint").as_string(), "/api/generate");
  EXPECT_EQ(first.at("model").as_string(), "llama3.2:3b");
  EXPECT_EQ(first.at("node").as_string(), a);
  EXPECT_EQ(first.at("outcome").as_string(), "served");
  EXPECT_EQ(first.at("status").as_int64(), 200);
  EXPECT_EQ(first.at("attempts").as_int64(), 1);
  EXPECT_EQ(first.at("tokens_out").to_number<uint64_t>(), 5u);
  EXPECT_GT(first.at("tokens_in").to_number<uint64_t>(), 0u);
  EXPECT_GT(first.at("ttft_ms").as_double(), 0.0);
  EXPECT_GE(first.at("duration_ms").as_double(), first.at("ttft_ms").as_double());
  EXPECT_TRUE(first.at("cache").is_null());
  EXPECT_EQ(first.at("key").as_string(), "");
  // The trace: the routing decision behind it, as the routing log has it.
  const auto& trace = first.at("routing").as_object();
  EXPECT_EQ(trace.at("selected_node").as_string(), a);
  EXPECT_EQ(trace.at("requested_node").as_string(), a);
  EXPECT_FALSE(trace.at("reason").as_string().empty());
  EXPECT_FALSE(trace.at("candidates").as_array().empty());

  // The unpinned OpenAI request went to either node.
  auto count_on = [&](const std::string& node) {
    return std::count_if(all.begin(), all.end(), [&](const json::value& r) { return r.at("node") == json::value(node); });
  };
  auto on_b = requests_at(f, "?node=" + b);
  ASSERT_EQ(on_b.size(), static_cast<std::size_t>(count_on(b)));
  for (const auto& r : on_b) EXPECT_EQ(r.at("node").as_string(), b);
  EXPECT_EQ(requests_at(f, "?outcome=unroutable").size(), 1u);
  // A model is matched by its normalised name, sent escaped or not.
  EXPECT_EQ(requests_at(f, "?model=llama3.2%3A3b").size(), 3u);
  EXPECT_EQ(requests_at(f, "?model=llama3.2:3b&node=" + a).size(), static_cast<std::size_t>(count_on(a)));
  EXPECT_LT(requests_at(f, "?node=" + a).size() + on_b.size(), all.size()) << "the unroutable one is on neither";
  EXPECT_EQ(requests_at(f, "?limit=2").size(), 2u);
  auto after = requests_at(f, "?after=" + std::to_string(all[1].at("seq").to_number<uint64_t>()));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].at("seq"), all[0].at("seq"));
}

TEST(Traffic, TheLastSecondsAreServedAndAPageThatConnectsGetsThemAtOnce) {
  Fleet f;
  start_fleet(f);
  const std::string a = f.sim(0).id;
  const std::string gen = R"({"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":4}})";
  for (int i = 0; i < 3; ++i) ASSERT_EQ(call(f.gateway(), "POST", "/api/generate", gen, {{"X-Hydra-Node", a}}).status, 200);
  // Counted in the tick after they finished: within a couple of seconds.
  json::array seconds;
  ASSERT_TRUE(wait_for([&] {
    seconds = json::parse(get(f.gateway(), "/traffic").body).at("seconds").as_array();
    return sum_over(seconds) == 3;
  }, std::chrono::seconds(5))) << json::serialize(seconds);
  EXPECT_EQ(sum_over(seconds, a), 3u);
  for (std::size_t i = 1; i < seconds.size(); ++i)
    EXPECT_GE(seconds[i].at("t").as_int64(), seconds[i - 1].at("t").as_int64()) << "oldest first";
  EXPECT_EQ(json::parse(get(f.gateway(), "/traffic?seconds=1").body).at("seconds").as_array().size(), 1u);
  // A count that is not a whole number is a 400 naming it, on every view that takes counts.
  for (const auto& [target, key] : std::vector<std::pair<std::string, std::string>>{
           {"/traffic?seconds=abc", "seconds"}, {"/requests?limit=-1", "limit"}, {"/routing?after=x", "after"}}) {
    auto bad = get(f.gateway(), target);
    EXPECT_EQ(bad.status, 400) << target;
    EXPECT_EQ(bad.body, "{\"error\":\"" + key + " must be a whole number\"}") << target;
  }

  // /events starts with the history: the charts' seconds and the recent requests.
  std::string stream;
  HttpCall c;
  c.target = "/events";
  c.on_data = [&](std::string_view piece) {
    stream.append(piece);
    auto at = stream.find("event: history\ndata: ");
    return at == std::string::npos || stream.find("\n\n", at) == std::string::npos;
  };
  request(f.gateway(), c);
  auto at = stream.find("event: history\ndata: ");
  ASSERT_NE(at, std::string::npos) << stream;
  auto history = json::parse(stream.substr(at + 21, stream.find('\n', at + 21) - at - 21));
  EXPECT_EQ(sum_over(history.at("traffic").as_array(), a), 3u);
  EXPECT_EQ(history.at("requests").as_array().size(), 3u);
  EXPECT_LT(at, stream.find("event: nodes")) << "the history comes before the first tick";
}

TEST(Nodes, EachNodeHasItsSimsNameAndATotalOnlyWhenOneIsKnown) {
  Fleet f;
  const std::vector<std::string> args = {"--model", "llama3.2:3b=2", "--loaded", "llama3.2:3b"};
  f.add_sim("configured-box", args, "#vram=24,ram=64");
  f.add_sim("estimated-box", args);
  f.start_gateway();
  json::object by_name;
  ASSERT_TRUE(wait_for([&] {
    by_name = {};
    const json::value nodes = json::parse(get(f.gateway(), "/nodes").body);
    for (const auto& n : nodes.at("nodes").as_array()) by_name[n.at("name").as_string()] = n;
    return by_name.contains("configured-box") && by_name.contains("estimated-box") &&
           by_name.at("estimated-box").at("resources").at("vram_used_bytes").to_number<uint64_t>() > 0;
  }, seconds(5))) << json::serialize(by_name);
  const auto& configured = by_name.at("configured-box").at("resources");
  EXPECT_EQ(by_name.at("configured-box").at("id").as_string(), f.sim(0).id);
  EXPECT_TRUE(configured.at("vram_total_known").as_bool());
  EXPECT_TRUE(configured.at("ram_total_known").as_bool());
  EXPECT_EQ(configured.at("vram_total_bytes").to_number<uint64_t>(), 24'000'000'000u);
  EXPECT_GT(configured.at("vram_used_bytes").to_number<uint64_t>(), 0u);
  // Estimated: what was seen in use is no total.
  const auto& estimated = by_name.at("estimated-box").at("resources");
  EXPECT_EQ(estimated.at("source").as_string(), "estimated");
  EXPECT_FALSE(estimated.at("vram_total_known").as_bool());
  EXPECT_FALSE(estimated.at("ram_total_known").as_bool());
}
