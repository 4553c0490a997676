// One connection over time: pipelined requests while a handler watches for its client leaving
// (Exchange::wait_closed), and that watch still noticing a client that does leave.
#include "http/server_fixture.hpp"

#include <atomic>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

using namespace hydra;
using namespace hydra::http;
using namespace boost::asio::experimental::awaitable_operators;
using test::count_of;
using test::RawClient;
using test::ServerFixture;

namespace {

class Connection : public ServerFixture {
protected:
  void start() {
    // Waits like a request queued for a node: a timer raced against the client leaving, in a
    // loop, until the test releases it.
    router_.add(bhttp::verb::get, "/wait", [this](Exchange& ex) -> awaitable<void> {
      waiting_ = true;
      asio::steady_timer tick(co_await asio::this_coro::executor);
      int after_release = 0;
      for (int i = 0; i < 1000 && after_release < 5; ++i) {
        if (released_) ++after_release;
        tick.expires_after(std::chrono::milliseconds(20));
        auto which = co_await (tick.async_wait(use_nothrow) || ex.wait_closed());
        if (which.index() == 1) {
          gone_ = true;
          co_return;
        }
      }
      co_await ex.respond(bhttp::status::ok, "first", "text/plain");
    });
    // Parks until the client leaves.
    router_.add(bhttp::verb::get, "/park", [this](Exchange& ex) -> awaitable<void> {
      waiting_ = true;
      co_await ex.wait_closed();
      gone_ = true;
    });
    ServerFixture::start();
  }
  std::atomic<bool> waiting_{false};
  std::atomic<bool> released_{false};
  std::atomic<bool> gone_{false};
};

bool two_replies(const std::string& r) { return r.find("hello") != std::string::npos; }

}  // namespace

TEST_F(Connection, PipelinedRequestWhileTheFirstWaitsIsAnsweredInOrder) {
  start();
  RawClient c(ep_);
  c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(test::wait_for([&] { return waiting_.load(); }, std::chrono::seconds(5)));
  // The second request arrives while the first is still waiting (and watching its client).
  c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  released_ = true;
  ASSERT_TRUE(c.read_until(two_replies, std::chrono::seconds(10))) << c.received();
  const std::string& r = c.received();
  EXPECT_FALSE(gone_.load());
  EXPECT_EQ(r.find("500"), std::string::npos) << r;
  EXPECT_EQ(count_of(r, "HTTP/1.1 200 OK"), 2u) << r;
  EXPECT_LT(r.find("first"), r.find("hello")) << r;
}

TEST_F(Connection, ClientThatLeavesIsSeenAsGone) {
  start();
  RawClient c(ep_);
  c.send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(test::wait_for([&] { return waiting_.load(); }, std::chrono::seconds(5)));
  c.close();
  EXPECT_TRUE(test::wait_for([&] { return gone_.load(); }, std::chrono::seconds(5)));
}

TEST_F(Connection, ClientThatLeavesAfterPipeliningMuchIsSeenAsGone) {
  start();
  RawClient c(ep_);
  c.send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(test::wait_for([&] { return waiting_.load(); }, std::chrono::seconds(5)));
  // More than the watch reads ahead (256 KiB): it stops reading and must still see the
  // hang-up behind the bytes left in the socket.
  const std::size_t size = 264u << 10;  // a little more than the read-ahead: the rest fits the socket buffer
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n" +
         std::string(size, 'p'));
  EXPECT_FALSE(gone_.load());
  c.close();
  EXPECT_TRUE(test::wait_for([&] { return gone_.load(); }, std::chrono::seconds(5)));
}

TEST_F(Connection, ClientThatResetsAfterPipeliningMuchIsSeenAsGone) {
  start();
  RawClient c(ep_);
  c.send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(test::wait_for([&] { return waiting_.load(); }, std::chrono::seconds(5)));
  const std::size_t size = 2u << 20;  // more than the socket buffers hold
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n" +
         std::string(size, 'p'));
  EXPECT_FALSE(gone_.load());
  c.reset();
  EXPECT_TRUE(test::wait_for([&] { return gone_.load(); }, std::chrono::seconds(5)));
}

TEST_F(Connection, PipelinedRequestsAfterAParkedOneAreAnswered) {
  // A request that sends data while parked is not gone; its reply and the next come in order.
  start();
  RawClient c(ep_);
  c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(test::wait_for([&] { return waiting_.load(); }, std::chrono::seconds(5)));
  const std::string body(300u << 10, 'e');  // more than the watch reads ahead
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body +
         "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  released_ = true;
  ASSERT_TRUE(c.read_until(two_replies, std::chrono::seconds(10))) << c.received().substr(0, 300);
  const std::string& r = c.received();
  EXPECT_EQ(count_of(r, "HTTP/1.1 200 OK"), 3u);
  EXPECT_LT(r.find("first"), r.find(body.substr(0, 100)));
  EXPECT_LT(r.find(body.substr(0, 100)), r.find("hello"));
}
