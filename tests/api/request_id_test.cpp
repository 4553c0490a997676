// Request ids and trace context (issue #22): X-Request-Id taken from the client when sane or
// made up, returned on every reply, sent to the node, kept in the request log; a traceparent
// goes on with the same trace id and the gateway's own span id. The access log (one line per
// request) and the JSON application log carry the id.
#include "api/request_id.hpp"
#include "support/fake_node.hpp"
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <gtest/gtest.h>
#include <mutex>
#include <regex>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

TEST(RequestId, SaneIdsAreKeptOthersMadeUpAndTraceparentsGetANewSpan) {
  using hydra::api::next_traceparent;
  const auto request_id_for = [](std::string_view s) { return std::string(hydra::api::request_id_for(s).view()); };
  EXPECT_EQ(request_id_for("abc-123_x.y:z"), "abc-123_x.y:z");
  EXPECT_EQ(request_id_for(std::string(128, 'a')), std::string(128, 'a'));
  const std::regex made_up("[0-9a-f]{32}");
  EXPECT_TRUE(std::regex_match(request_id_for(""), made_up));
  EXPECT_TRUE(std::regex_match(request_id_for("has space"), made_up));
  EXPECT_TRUE(std::regex_match(request_id_for(std::string(129, 'a')), made_up));
  EXPECT_NE(request_id_for(""), request_id_for("")) << "random, not fixed";

  const std::string parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto next = next_traceparent(parent);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->substr(0, 36), parent.substr(0, 36)) << "the same trace";
  EXPECT_NE(next->substr(36, 16), parent.substr(36, 16)) << "a span of its own";
  EXPECT_EQ(next->substr(52), "-01");
  EXPECT_FALSE(next_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(next_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")) << "upper case";
  EXPECT_FALSE(next_traceparent("garbage"));
}

TEST(RequestId, ReturnedOnEveryReplySentToTheNodeAndLogged) {
  using hydra::http::bhttp::status;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> seen;  // X-Request-Id, traceparent the node got
  FakeNode node([&](hydra::http::Exchange& ex) -> hydra::http::awaitable<void> {
    const std::string_view path = ex.path();
    std::string reply = R"({"models":[]})";
    if (path == "/api/version") reply = R"({"version":"0.12.6"})";
    if (path == "/api/tags") reply = R"({"models":[{"name":"small:1b","size":1000}]})";
    if (path == "/api/generate" || path == "/api/chat") {
      std::lock_guard lock(mu);
      seen.emplace_back(std::string(ex.request()["X-Request-Id"]), std::string(ex.request()["traceparent"]));
      reply = path == "/api/chat" ? R"({"model":"small:1b","message":{"role":"assistant","content":"ok"},"done":true})"
                                  : R"({"model":"small:1b","response":"ok","done":true})";
    }
    co_await ex.respond(status::ok, reply);
  });
  Fleet f;
  f.start_gateway({}, {"--node", node.url()});
  const std::string body = R"({"model":"small:1b","prompt":"hi","stream":false})";

  auto made_up = call(f.gateway(), "POST", "/api/generate", body);
  ASSERT_EQ(made_up.status, 200) << made_up.body;
  const std::string id = made_up.headers["x-request-id"];
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;

  const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto given = call(f.gateway(), "POST", "/api/generate", body, {{"X-Request-Id", "client-42"}, {"traceparent", trace}});
  ASSERT_EQ(given.status, 200);
  EXPECT_EQ(given.headers["x-request-id"], "client-42");
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].first, id) << "the made-up id went to the node too";
    EXPECT_EQ(seen[0].second, "") << "no trace context made up";
    EXPECT_EQ(seen[1].first, "client-42");
    EXPECT_EQ(seen[1].second.substr(0, 36), trace.substr(0, 36));
    EXPECT_NE(seen[1].second, trace);
  }
  // The OpenAI API builds its request to the node anew: the id and the trace go on all the same.
  auto openai = call(f.gateway(), "POST", "/v1/chat/completions",
                     R"({"model":"small:1b","messages":[{"role":"user","content":"hi"}]})",
                     {{"X-Request-Id", "client-43"}, {"traceparent", trace}});
  ASSERT_EQ(openai.status, 200) << openai.body;
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[2].first, "client-43");
    EXPECT_EQ(seen[2].second.substr(0, 36), trace.substr(0, 36));
    EXPECT_NE(seen[2].second, trace);
  }
  // Every reply carries one, errors and other endpoints included.
  EXPECT_FALSE(call(f.gateway(), "GET", "/health").headers["x-request-id"].empty());
  EXPECT_FALSE(call(f.gateway(), "POST", "/api/generate", "{bad").headers["x-request-id"].empty());
  // The request log finds it.
  const std::string log = get(f.gateway(), "/requests").body;
  EXPECT_NE(log.find(id), std::string::npos);
  EXPECT_NE(log.find("client-42"), std::string::npos);
}

// The access log's lines, parsed (JSON), from a file.
std::vector<json::object> access_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<json::object> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line).as_object());
  return out;
}

const json::object* line_with_id(const std::vector<json::object>& lines, std::string_view id) {
  for (const auto& l : lines)
    if (const auto* v = l.if_contains("request_id"); v && v->is_string() && v->get_string() == id) return &l;
  return nullptr;
}

TEST(AccessLog, OneJsonLinePerRequestWithTheRequestsFactsAndTheAppLogInJson) {
  Fleet f;
  for (const char* name : {"a", "b"})
    f.add_sim(name, {"--model", "small:1b=1", "--loaded", "small:1b", "--tokens-per-second", "2000"});
  char dir[] = "/tmp/hydra-access-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/access.log";
  f.start_gateway({"HYDRA_ACCESS_LOG=json", "HYDRA_ACCESS_LOG_FILE=" + path, "HYDRA_LOG_FORMAT=json", "HYDRA_BODY_LIMIT_MB=1"});
  // A stream cut on node a goes on on b: the application log's warning is about this request.
  const std::string a = f.sim(0).id;
  ASSERT_EQ(post(f.sim(0).endpoint, "/_sim/fault", R"({"mode":"cut","after_tokens":2,"count":1})").status, 200);
  const std::string body = R"({"model":"small:1b","prompt":"hello there","options":{"num_predict":5}})";
  auto served = call(f.gateway(), "POST", "/api/generate", body, {{"X-Request-Id", "acc-1"}, {"X-Hydra-Node", a}});
  ASSERT_EQ(served.status, 200) << served.body;
  ASSERT_NE(served.body.find("\"continued\""), std::string::npos) << served.body;
  auto tags = call(f.gateway(), "GET", "/api/tags?x=secret", "", {{"X-Request-Id", "acc-2"}});
  ASSERT_EQ(tags.status, 200);
  auto missing = call(f.gateway(), "POST", "/api/generate", R"({"model":"nowhere:1b","prompt":"x"})", {{"X-Request-Id", "acc-3"}});
  ASSERT_EQ(missing.status, 404);

  // Refused by the HTTP layer before any handler: the id and the line all the same.
  auto big = call(f.gateway(), "POST", "/api/chat?x=1", std::string(2 << 20, ' '), {{"X-Request-Id", "acc-4"}});
  ASSERT_EQ(big.status, 413);
  EXPECT_EQ(big.headers["x-request-id"], "acc-4");

  std::vector<json::object> lines;
  ASSERT_TRUE(wait_for([&] {
    lines = access_lines(path);
    return line_with_id(lines, "acc-1") && line_with_id(lines, "acc-2") && line_with_id(lines, "acc-3") &&
           line_with_id(lines, "acc-4");
  }, seconds(10))) << lines.size() << " lines";
  const json::object& refused = *line_with_id(lines, "acc-4");
  EXPECT_EQ(refused.at("status").as_int64(), 413);
  EXPECT_EQ(refused.at("route").as_string(), "/api/chat");
  EXPECT_EQ(refused.at("method").as_string(), "POST");
  const json::object& gen = *line_with_id(lines, "acc-1");
  EXPECT_EQ(gen.at("method").as_string(), "POST");
  EXPECT_EQ(gen.at("route").as_string(), "/api/generate");
  EXPECT_EQ(gen.at("model").as_string(), "small:1b");
  EXPECT_EQ(gen.at("node").as_string(), f.sim(1).id) << json::serialize(gen) << "\n" << f.gateway_log();
  EXPECT_EQ(gen.at("status").as_int64(), 200);
  EXPECT_EQ(gen.at("outcome").as_string(), "served");
  EXPECT_EQ(gen.at("client").as_string(), "127.0.0.1");
  EXPECT_EQ(gen.at("attempts").as_int64(), 2);
  EXPECT_EQ(gen.at("tokens_out").as_int64(), 5);
  EXPECT_GT(gen.at("tokens_in").as_int64(), 0);
  EXPECT_GE(gen.at("ttfb_ms").as_double(), 0.0);
  EXPECT_GE(gen.at("duration_ms").as_double(), gen.at("ttfb_ms").as_double());
  EXPECT_EQ(gen.at("queued_ms").as_double(), 0.0);
  EXPECT_TRUE(gen.at("time").as_string().ends_with("Z"));
  const json::object& list = *line_with_id(lines, "acc-2");
  EXPECT_EQ(list.at("route").as_string(), "/api/tags") << "the path, not the query";
  EXPECT_TRUE(list.at("model").is_null());
  EXPECT_TRUE(list.at("attempts").is_null());
  EXPECT_TRUE(list.at("outcome").is_null());
  EXPECT_EQ(list.at("status").as_int64(), 200);
  const json::object& lost = *line_with_id(lines, "acc-3");
  EXPECT_EQ(lost.at("model").as_string(), "nowhere:1b");
  EXPECT_EQ(lost.at("status").as_int64(), 404);
  EXPECT_EQ(lost.at("outcome").as_string(), "unroutable");
  EXPECT_TRUE(lost.at("node").is_null());

  // The application log: one JSON object per line on stderr.
  std::istringstream log(f.gateway_log());
  std::string line;
  int objects = 0;
  bool about_acc1 = false;
  while (std::getline(log, line)) {
    if (line.empty() || line[0] != '{') continue;
    json::object o = json::parse(line).as_object();
    ++objects;
    EXPECT_TRUE(o.contains("time") && o.contains("level") && o.contains("msg")) << line;
    if (const auto* id = o.if_contains("request_id"); id && id->as_string() == "acc-1")
      about_acc1 |= o.at("msg").as_string().find(a) != json::string::npos;
  }
  EXPECT_GT(objects, 0);
  EXPECT_TRUE(about_acc1) << "the failover's warning names the request:\n" << f.gateway_log();
  std::filesystem::remove_all(dir);
}

}  // namespace
