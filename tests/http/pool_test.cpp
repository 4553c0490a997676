// The upstream connection pool (http/client): a kept-alive connection that the node closed
// while it sat idle never fails a request, a new connection that fails is a failure, and idle
// connections are closed after the pool's idle timeout rather than reused.
#include "http/client.hpp"
#include "support/fickle_node.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <thread>
#include <vector>

using namespace hydra;
using namespace std::chrono;
namespace asio = boost::asio;
using http::bhttp::verb;
using test::FickleNode;

namespace {

// `n` fetches of `target` at once, run on `ioc` to their end (each is bounded by its timeout).
std::vector<http::FetchResult> fetch_all(asio::io_context& ioc, http::ConnectionPool& pool, const FickleNode& node,
                                         int n, verb method = verb::get, std::string target = "/api/version") {
  std::vector<http::FetchResult> out(static_cast<std::size_t>(n));
  for (auto& slot : out) {
    std::string body = method == verb::post ? R"({"model":"m:1b"})" : "";
    asio::co_spawn(ioc, http::fetch(pool, node.endpoint(), node.id(), method, target, body, seconds(10)),
                   [&slot](std::exception_ptr, http::FetchResult r) { slot = std::move(r); });
  }
  ioc.restart();
  ioc.run();
  return out;
}

int served(const std::vector<http::FetchResult>& results) {
  int ok = 0;
  for (const auto& r : results) ok += !r.ec && r.status == 200 ? 1 : 0;
  return ok;
}

}  // namespace

TEST(ConnectionPool, ABurstAfterTheNodeClosedItsIdleConnectionsIsServedOnNewOnes) {
  FickleNode node(seconds(1));
  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor(), 64, minutes(10));  // only the node closes them
  node.hold = 6;
  ASSERT_EQ(served(fetch_all(ioc, pool, node, 6, verb::post, "/api/chat")), 6);
  EXPECT_EQ(node.connections_seen(), 6u);  // six pooled connections now
  // The node closes them after its keep-alive timeout; the pool still holds all six.
  ASSERT_TRUE(test::wait_for([&] { return node.open_connections() == 0; }, seconds(10)));
  node.reset_arrivals();
  auto again = fetch_all(ioc, pool, node, 6, verb::post, "/api/chat");
  for (const auto& r : again) EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(served(again), 6);
  EXPECT_EQ(node.connections_seen(), 12u);  // each on a new connection
  EXPECT_EQ(node.replied("/api/chat"), 12);
}

TEST(ConnectionPool, AReusedConnectionDroppedBeforeAnyReplyByteIsRetriedOnANewOneWhateverTheMethod) {
  FickleNode node;
  node.drop_reused = true;  // a connection's second request finds it closed
  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor());
  ASSERT_EQ(served(fetch_all(ioc, pool, node, 1)), 1);
  for (verb method : {verb::get, verb::post}) {
    const int dropped = node.dropped();
    auto r = fetch_all(ioc, pool, node, 1, method, method == verb::get ? "/api/version" : "/api/chat");
    EXPECT_FALSE(r[0].ec) << r[0].ec.message();
    EXPECT_EQ(r[0].status, 200);
    EXPECT_EQ(node.dropped(), dropped + 1);  // it did go out on the pooled connection first
  }
  EXPECT_EQ(node.connections_seen(), 3u);
}

TEST(ConnectionPool, ANewConnectionThatFailsIsAFailureAndIsTriedOnce) {
  FickleNode node;
  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor());
  ASSERT_EQ(served(fetch_all(ioc, pool, node, 1)), 1);  // one pooled connection
  node.drop_all = true;
  auto r = fetch_all(ioc, pool, node, 1, verb::post, "/api/chat");
  EXPECT_TRUE(r[0].ec);  // the pooled one, then one new one: both dropped
  EXPECT_EQ(node.dropped(), 2);
  r = fetch_all(ioc, pool, node, 1, verb::post, "/api/chat");  // nothing pooled: a new one only
  EXPECT_TRUE(r[0].ec);
  EXPECT_EQ(node.dropped(), 3);
}

TEST(ConnectionPool, AConnectionIdleLongerThanTheIdleTimeoutIsClosedNotReused) {
  FickleNode node;
  asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor(), 64, seconds(2));
  ASSERT_EQ(served(fetch_all(ioc, pool, node, 1)), 1);
  ASSERT_EQ(served(fetch_all(ioc, pool, node, 1)), 1);
  EXPECT_EQ(node.connections_seen(), 1u);  // reused within the idle timeout
  std::this_thread::sleep_for(milliseconds(2100));  // not a synchronisation: the idle timeout under test passes
  ASSERT_EQ(served(fetch_all(ioc, pool, node, 1)), 1);
  EXPECT_EQ(node.connections_seen(), 2u);
  // The pool closed the old one: the node has only the new one open.
  EXPECT_TRUE(test::wait_for([&] { return node.open_connections() == 1; }, seconds(5)));

  pool.set_idle_timeout(milliseconds(0));  // never reused
  ASSERT_EQ(served(fetch_all(ioc, pool, node, 1)), 1);
  ASSERT_EQ(served(fetch_all(ioc, pool, node, 1)), 1);
  EXPECT_EQ(node.connections_seen(), 4u);
}
