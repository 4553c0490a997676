// Request ids and trace context (issue #22): X-Request-Id taken from the client when sane or
// made up, returned on every reply, sent to the node, kept in the request log; a traceparent
// goes on with the same trace id and the gateway's own span id.
#include "api/request_id.hpp"
#include "support/fake_node.hpp"
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <mutex>
#include <regex>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

TEST(RequestId, SaneIdsAreKeptOthersMadeUpAndTraceparentsGetANewSpan) {
  using hydra::api::next_traceparent;
  using hydra::api::request_id_for;
  EXPECT_EQ(request_id_for("abc-123_x.y:z"), "abc-123_x.y:z");
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
    if (path == "/api/generate") {
      std::lock_guard lock(mu);
      seen.emplace_back(std::string(ex.request()["X-Request-Id"]), std::string(ex.request()["traceparent"]));
      reply = R"({"model":"small:1b","response":"ok","done":true})";
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
  // Every reply carries one, errors and other endpoints included.
  EXPECT_FALSE(call(f.gateway(), "GET", "/health").headers["x-request-id"].empty());
  EXPECT_FALSE(call(f.gateway(), "POST", "/api/generate", "{bad").headers["x-request-id"].empty());
  // The request log finds it.
  const std::string log = get(f.gateway(), "/requests").body;
  EXPECT_NE(log.find(id), std::string::npos);
  EXPECT_NE(log.find("client-42"), std::string::npos);
}

}  // namespace
