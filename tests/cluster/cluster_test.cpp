// The Cluster itself, in-process on the test's thread: slots of forgotten nodes are freed and
// reused (churn), the fleet-wide model refresh is single-flight, parallel and rate-limited,
// a probe loop ended by an exception starts again, and snapshots are published copy-on-write
// per node, once per turn of the event loop, and only when something changed.
#include "cluster/cluster.hpp"
#include "http/threads.hpp"
#include "support/fake_node.hpp"
#include "support/sim_harness.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdexcept>
#include <thread>

using namespace hydra;
using namespace hydra::cluster;
using namespace std::chrono;
namespace asio = boost::asio;

namespace {

// Runs the io_context in short slices until `done` holds or `limit` passes.
bool run_until(asio::io_context& ioc, const std::function<bool()>& done, milliseconds limit) {
  const auto deadline = steady_clock::now() + limit;
  while (!done()) {
    if (steady_clock::now() > deadline) return false;
    if (ioc.stopped()) ioc.restart();
    ioc.run_for(milliseconds(5));
  }
  return true;
}

NodeUrl url_of(const test::Endpoint& ep) {
  NodeUrl u;
  u.host = ep.address().to_string();
  u.port = ep.port();
  return u;
}

sim::NodeConfig sim_config(std::string name) {
  sim::NodeConfig c;
  c.name = std::move(name);
  c.models = {{"llama3.2:3b", 2.0}};
  return c;
}

int64_t sim_hits(const test::SimHarness& sim, const char* path) {
  const boost::json::value stats = sim.stats();
  const auto* n = stats.at("requests_by_path").as_object().if_contains(path);
  return n ? n->to_number<int64_t>() : 0;
}

HealthSettings quick_settings() {
  HealthSettings s;
  s.agents = false;
  s.interval = milliseconds(50);
  s.suspect_interval = milliseconds(50);
  s.probe_timeout = milliseconds(1000);
  s.models_interval = hours(1);  // model lists are read only when a test asks
  return s;
}

}  // namespace

TEST(ClusterChurn, ThreeThousandRegisterDeleteCyclesLeaveTheNodeListAsLongAsTheFleet) {
  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor());
  test::SimHarness sim(sim_config("kept"));
  Cluster c(ioc.get_executor(), pool, quick_settings(), SystemClock::instance());
  c.add_node(url_of(sim.endpoint()));
  c.start();
  ASSERT_TRUE(run_until(ioc, [&] { return c.snapshot()->nodes[0].routable(); }, seconds(10)));

  std::size_t longest = 0;
  for (int i = 0; i < 3000; ++i) {
    Cluster::Registration r;
    r.url.host = fmt::format("127.1.{}.{}", i / 250, i % 250 + 1);  // nothing listens: refused
    r.url.port = 9;
    std::size_t index = c.register_node(r, seconds(30));
    ASSERT_EQ(c.snapshot()->nodes[index].id, r.url.id());  // a reused slot names the new node
    ioc.poll();  // its probe loop starts
    ASSERT_TRUE(c.remove_node(r.url.id()));
    ioc.poll();
    longest = std::max(longest, c.snapshot()->nodes.size());
  }
  // Probe loops of removed nodes end, and their slots go: the list is the fleet again.
  EXPECT_TRUE(run_until(ioc, [&] { return c.snapshot()->nodes.size() == 1; }, seconds(10)))
      << c.snapshot()->nodes.size() << " slots left";
  EXPECT_LT(longest, 100u) << "slots of removed nodes were not reused";
  EXPECT_EQ(c.snapshot()->nodes[0].id, url_of(sim.endpoint()).id());
  EXPECT_TRUE(c.snapshot()->nodes[0].routable());
}

TEST(ClusterChurn, ASlotIsNotReusedWhileARequestStillHoldsItsNode) {
  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor());
  Cluster c(ioc.get_executor(), pool, quick_settings(), SystemClock::instance());  // not started: no probes
  Cluster::Registration first, second, third;
  first.url.host = "127.1.0.1";
  second.url.host = "127.1.0.2";
  third.url.host = "127.1.0.3";
  std::size_t a = c.register_node(first, seconds(30));
  // A request routed to it holds a snapshot (and so the node's counters) while it runs.
  auto held = c.snapshot();
  ASSERT_TRUE(c.remove_node(first.url.id()));
  std::size_t b = c.register_node(second, seconds(30));
  EXPECT_NE(a, b) << "the removed node's index was given to another node while a request held it";
  EXPECT_EQ(held->nodes[a].id, first.url.id());
  held.reset();  // the request ended
  ASSERT_TRUE(c.remove_node(second.url.id()));
  std::size_t again = c.register_node(third, seconds(30));
  EXPECT_EQ(again, a) << "a free slot is reused";
  EXPECT_EQ(c.snapshot()->nodes.size(), 1u);
  EXPECT_FALSE(c.heartbeat(first.url.id(), std::nullopt, seconds(30)));
  EXPECT_TRUE(c.heartbeat(third.url.id(), std::nullopt, seconds(30)));
}

TEST(ClusterRefresh, ConcurrentMissesShareOneRefreshAndTheFleetIsReadAtMostOncePerInterval) {
  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor());
  test::SimHarness a(sim_config("a")), b(sim_config("b"));
  ManualClock clock;
  HealthSettings s = quick_settings();
  s.refresh_min_interval = seconds(2);
  Cluster c(ioc.get_executor(), pool, s, clock);  // not started: only the test reads models
  c.add_node(url_of(a.endpoint()));
  c.add_node(url_of(b.endpoint()));
  bool probed = false;
  asio::co_spawn(ioc, c.probe_all_once(), [&](std::exception_ptr) { probed = true; });
  ASSERT_TRUE(run_until(ioc, [&] { return probed; }, seconds(10)));
  const int64_t before_a = sim_hits(a, "/api/tags"), before_b = sim_hits(b, "/api/tags");

  auto misses = [&](int n) {
    int finished = 0;
    for (int i = 0; i < n; ++i)
      asio::co_spawn(ioc, c.refresh_all_models(), [&](std::exception_ptr) { ++finished; });
    return run_until(ioc, [&] { return finished == n; }, seconds(10));
  };
  ASSERT_TRUE(misses(50));
  EXPECT_EQ(c.fleet_refreshes(), 1u);
  EXPECT_EQ(sim_hits(a, "/api/tags"), before_a + 1);
  EXPECT_EQ(sim_hits(b, "/api/tags"), before_b + 1);

  clock.advance(milliseconds(1500));  // within the interval: nothing is read again
  ASSERT_TRUE(misses(50));
  EXPECT_EQ(c.fleet_refreshes(), 1u);
  EXPECT_EQ(sim_hits(a, "/api/tags"), before_a + 1);

  clock.advance(milliseconds(600));
  ASSERT_TRUE(misses(50));
  EXPECT_EQ(c.fleet_refreshes(), 2u);
  EXPECT_EQ(sim_hits(a, "/api/tags"), before_a + 2);
  EXPECT_EQ(sim_hits(b, "/api/tags"), before_b + 2);
}

TEST(ClusterRefresh, EveryNodeIsReadAtOnce) {
  // Four nodes whose /api/tags, once armed, answers only when all four are being asked (or
  // after 3 s): read one after another, no more than one is ever asked at a time.
  std::atomic<bool> armed{false};
  std::atomic<int> asking{0}, most{0};
  auto handler = [&](http::Exchange& ex) -> http::awaitable<void> {
    if (ex.path() == "/api/version") {
      co_await ex.respond(http::bhttp::status::ok, R"({"version":"0.12.6"})");
    } else if (ex.path() == "/api/tags") {
      if (armed) {
        int now = ++asking;
        for (int m = most; now > m && !most.compare_exchange_weak(m, now);) {}
        asio::steady_timer t(co_await asio::this_coro::executor);
        for (auto until = steady_clock::now() + seconds(3); asking < 4 && steady_clock::now() < until;) {
          t.expires_after(milliseconds(5));
          co_await t.async_wait(http::use_nothrow);
        }
      }
      co_await ex.respond(http::bhttp::status::ok, R"({"models":[{"name":"x:1b","size":1000}]})");
    } else {
      co_await ex.respond(http::bhttp::status::ok, R"({"models":[]})");
    }
  };
  std::vector<std::unique_ptr<test::FakeNode>> nodes;
  for (int i = 0; i < 4; ++i) nodes.push_back(std::make_unique<test::FakeNode>(handler));

  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor());
  HealthSettings s = quick_settings();
  s.probe_timeout = seconds(5);
  Cluster c(ioc.get_executor(), pool, s, SystemClock::instance());
  for (auto& n : nodes) c.add_node(url_of(n->endpoint()));
  bool probed = false;
  asio::co_spawn(ioc, c.probe_all_once(), [&](std::exception_ptr) { probed = true; });
  ASSERT_TRUE(run_until(ioc, [&] { return probed; }, seconds(10)));
  armed = true;
  bool refreshed = false;
  asio::co_spawn(ioc, c.refresh_all_models(), [&](std::exception_ptr) { refreshed = true; });
  ASSERT_TRUE(run_until(ioc, [&] { return refreshed; }, seconds(30)));
  EXPECT_EQ(most.load(), 4);
  for (const auto& n : c.snapshot()->nodes) EXPECT_NE(n.model("x:1b"), nullptr) << n.id;
}

namespace {
// The system clock, except that it throws once when armed: an exception in a probe loop.
class ThrowingClock final : public Clock {
public:
  SteadyTime now() const override {
    if (armed.exchange(false)) throw std::runtime_error("a test broke the clock");
    return steady_clock::now();
  }
  WallTime wall() const override { return system_clock::now(); }
  mutable std::atomic<bool> armed{false};
};
}  // namespace

TEST(ClusterProbes, AProbeLoopEndedByAnExceptionStartsAgain) {
  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor());
  test::SimHarness sim(sim_config("a"));
  ThrowingClock clock;
  Cluster c(ioc.get_executor(), pool, quick_settings(), clock);
  c.add_node(url_of(sim.endpoint()));
  c.start();
  ASSERT_TRUE(run_until(ioc, [&] { return c.snapshot()->nodes[0].routable(); }, seconds(10)));
  clock.armed = true;
  ASSERT_TRUE(run_until(ioc, [&] { return !clock.armed; }, seconds(10)));
  const int64_t probes = sim_hits(sim, "/api/version");
  EXPECT_TRUE(run_until(ioc, [&] { return sim_hits(sim, "/api/version") >= probes + 3; }, seconds(10)))
      << "the node is no longer probed";
  EXPECT_TRUE(c.snapshot()->nodes[0].routable());
}

namespace {
// Three registered nodes nothing listens on; the cluster is not started, so no probe runs and
// only what the test does changes them.
std::vector<std::size_t> register_three(Cluster& c) {
  std::vector<std::size_t> out;
  for (int i = 1; i <= 3; ++i) {
    Cluster::Registration r;
    r.url.host = fmt::format("127.1.0.{}", i);
    r.url.port = 9;
    out.push_back(c.register_node(r, hours(1)));
  }
  return out;
}

// Runs what is ready: the rest of this turn of the event loop.
void finish_turn(asio::io_context& ioc) {
  ioc.restart();
  ioc.poll();
}

// A cluster of three registered nodes, published: what the publishing tests start from.
struct ThreeNodes {
  asio::io_context ioc;
  http::ConnectionPool pool{ioc.get_executor()};
  Cluster cluster{ioc.get_executor(), pool, quick_settings(), SystemClock::instance()};
  std::vector<std::size_t> nodes = register_three(cluster);
  ThreeNodes() { finish_turn(ioc); }
};
}  // namespace

TEST(ClusterPublish, APublishAfterOneNodeChangedSharesEveryOtherNodeWithTheSnapshotBefore) {
  ThreeNodes f;
  Cluster& c = f.cluster;
  auto& nodes = f.nodes;
  asio::io_context& ioc = f.ioc;
  auto before = c.snapshot();
  c.report_failure(nodes[1], "refused");
  finish_turn(ioc);
  auto after = c.snapshot();
  ASSERT_NE(after, before);
  EXPECT_EQ(after->generation, before->generation + 1);
  EXPECT_EQ(after->nodes.ptr(nodes[0]), before->nodes.ptr(nodes[0]));
  EXPECT_EQ(after->nodes.ptr(nodes[2]), before->nodes.ptr(nodes[2]));
  EXPECT_NE(after->nodes.ptr(nodes[1]), before->nodes.ptr(nodes[1]));
  EXPECT_EQ(after->nodes[nodes[1]].consecutive_failures, 1);
  EXPECT_EQ(after->nodes[nodes[1]].last_error, "refused");
  EXPECT_EQ(before->nodes[nodes[1]].consecutive_failures, 0) << "a published snapshot never changes";
}

// A request's success on a worker is handed to the control thread only when it clears
// something (a failure counted, a node not healthy): a healthy node's successes post nothing.
TEST(ClusterPublish, ASuccessOnAWorkerHopsToTheControlThreadOnlyWhenItClearsAFailure) {
  ThreeNodes f;
  Cluster& c = f.cluster;
  const std::size_t node = f.nodes[1];
  auto on_worker = [&](const std::shared_ptr<const Snapshot>& s) {
    std::thread([&] {
      http::set_thread_index(1);
      c.report_success(s->nodes[node]);
    }).join();
  };
  EXPECT_TRUE(c.snapshot()->nodes[node].live->success_clears.load()) << "not probed yet: a success says it is up";
  c.report_success(node);  // (on the control thread: at once)
  finish_turn(f.ioc);
  auto healthy = c.snapshot();
  ASSERT_EQ(healthy->nodes[node].health, Health::healthy);
  EXPECT_FALSE(healthy->nodes[node].live->success_clears.load());
  on_worker(healthy);
  f.ioc.restart();
  EXPECT_EQ(f.ioc.poll(), 0u) << "a success with nothing to clear was posted";

  c.report_failure(node, "refused");
  EXPECT_TRUE(c.snapshot()->nodes[node].live->success_clears.load()) << "set when the failure is counted";
  finish_turn(f.ioc);
  auto suspect = c.snapshot();
  ASSERT_EQ(suspect->nodes[node].consecutive_failures, 1);
  on_worker(healthy);  // an older view of the node: its counters are the node's own
  finish_turn(f.ioc);
  auto after = c.snapshot();
  EXPECT_EQ(after->nodes[node].consecutive_failures, 0);
  EXPECT_EQ(after->nodes[node].health, Health::healthy);
  EXPECT_FALSE(after->nodes[node].live->success_clears.load());
  // Ejected by another gateway: not healthy, so a success counts again.
  ASSERT_TRUE(c.eject_elsewhere(after->nodes[node].id, seconds(30), "ejected by gw-b"));
  EXPECT_TRUE(c.snapshot()->nodes[node].live->success_clears.load());
}

TEST(ClusterPublish, SeveralChangesInOneTurnPublishOnce) {
  ThreeNodes f;
  Cluster& c = f.cluster;
  auto& nodes = f.nodes;
  asio::io_context& ioc = f.ioc;
  auto before = c.snapshot();
  Resources reading;
  reading.source = Resources::Source::reported;
  reading.known = true;
  reading.vram_total = reading.vram_free = 24'000'000'000ull;
  c.report_failure(nodes[1], "refused");
  c.report_failure(nodes[0], "reset");
  ASSERT_TRUE(c.heartbeat(before->nodes[nodes[2]].id, reading, hours(1)));
  c.report_failure(nodes[1], "refused again");
  EXPECT_EQ(c.snapshot(), before) << "published before the turn ended";
  finish_turn(ioc);
  auto after = c.snapshot();
  EXPECT_EQ(after->generation, before->generation + 1) << "more than one publish";
  EXPECT_EQ(after->nodes[nodes[1]].consecutive_failures, 2);
  EXPECT_EQ(after->nodes[nodes[1]].last_error, "refused again");
  EXPECT_EQ(after->nodes[nodes[0]].last_error, "reset");
  EXPECT_EQ(after->nodes[nodes[2]].resources.vram_total, 24'000'000'000ull);
  finish_turn(ioc);
  EXPECT_EQ(c.snapshot(), after) << "published again with nothing changed";
  // The same reading again changes nothing: no publish.
  ASSERT_TRUE(c.heartbeat(before->nodes[nodes[2]].id, reading, hours(1)));
  finish_turn(ioc);
  EXPECT_EQ(c.snapshot(), after);
}

TEST(ClusterPublish, ALoadStartedIsPublishedAtOnceForTheRequestsRoutedNext) {
  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor());
  Cluster c(ioc.get_executor(), pool, quick_settings(), SystemClock::instance());
  auto nodes = register_three(c);
  auto before = c.snapshot();
  c.loading_started(nodes[0], "a:7b");
  auto during = c.snapshot();
  EXPECT_EQ(during->nodes[nodes[0]].loading, std::vector<std::string>{"a:7b"});
  EXPECT_EQ(during->nodes.ptr(nodes[1]), before->nodes.ptr(nodes[1]));
  c.loading_ended(nodes[0], "a:7b");
  EXPECT_TRUE(c.snapshot()->nodes[nodes[0]].loading.empty());
}

TEST(ClusterPublish, AProbeThatFindsTheSameModelsPublishesNothingAndADifferentListPublishesThatNode) {
  std::atomic<bool> pulled{false};
  auto handler = [&](http::Exchange& ex) -> http::awaitable<void> {
    std::string body = R"({"models":[]})";
    if (ex.path() == "/api/version")
      body = R"({"version":"0.12.6"})";
    else if (ex.path() == "/api/tags")
      body = pulled ? R"({"models":[{"name":"x:1b","size":1000},{"name":"y:1b","size":2000}]})"
                    : R"({"models":[{"name":"x:1b","size":1000}]})";
    co_await ex.respond(http::bhttp::status::ok, body);
  };
  test::FakeNode a(handler), b(handler);
  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor());
  Cluster c(ioc.get_executor(), pool, quick_settings(), SystemClock::instance());  // not started
  c.add_node(url_of(a.endpoint()));
  c.add_node(url_of(b.endpoint()));
  auto probe_all = [&] {
    bool probed = false;
    asio::co_spawn(ioc, c.probe_all_once(), [&](std::exception_ptr) { probed = true; });
    return run_until(ioc, [&] { return probed; }, seconds(10));
  };
  ASSERT_TRUE(probe_all());
  auto first = c.snapshot();
  ASSERT_TRUE(first->nodes[0].routable());
  ASSERT_NE(first->nodes[1].model("x:1b"), nullptr);

  // Both nodes' lists read again, the same as before: no new snapshot.
  const int tags_before = a.hits("/api/tags");
  c.request_refresh(0);
  c.request_refresh(1);
  ASSERT_TRUE(probe_all());
  EXPECT_EQ(a.hits("/api/tags"), tags_before + 1);
  EXPECT_EQ(c.snapshot(), first) << "published although nothing changed";

  // A model appears on the second node: one publish, which copies that node only.
  pulled = true;
  c.request_refresh(1);
  ASSERT_TRUE(probe_all());
  auto second = c.snapshot();
  ASSERT_NE(second, first);
  EXPECT_EQ(second->generation, first->generation + 1);
  EXPECT_EQ(second->nodes.ptr(0), first->nodes.ptr(0));
  EXPECT_NE(second->nodes[1].model("y:1b"), nullptr);
  EXPECT_EQ(second->holders_of("y:1b").size(), 1u);
}
