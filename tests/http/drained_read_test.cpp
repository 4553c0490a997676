// http::DrainingReads (a read that takes a short read as proof the socket is drained) and the
// server's keep-alive wait built on it with http::IdleWaits: what waits after a short read still
// wakes when bytes come, cancels, ends at the peer's close; kept-alive connections get their
// next requests answered and are closed after the idle limit.
#include "http/drained_read.hpp"
#include "http/server_fixture.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <chrono>
#include <optional>
#include <string>

using namespace hydra;
using namespace hydra::http;
using std::chrono::milliseconds;
using std::chrono::seconds;
using test::RawClient;
using test::ServerFixture;

namespace {

// A connected pair on loopback: `ours` is read with DrainingReads, `peer` writes (blocking).
struct Pair {
  asio::io_context io;
  tcp::socket ours{io}, peer{io};
  Pair() {
    tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    peer.connect(acc.local_endpoint());
    acc.accept(ours);
  }
  void send(std::string_view bytes) { asio::write(peer, asio::buffer(bytes)); }
};

// One read: runs the io_context until it completes (bounded by `limit`); nullopt if it did not.
std::optional<std::pair<error_code, std::string>> read_once(Pair& p, DrainingReads& reads, std::size_t room,
                                                            milliseconds limit = milliseconds(5000)) {
  std::optional<std::pair<error_code, std::string>> out;
  std::string buf(room, '\0');
  reads.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t n) { out.emplace(ec, buf.substr(0, n)); });
  p.io.restart();
  p.io.run_for(limit);
  return out;
}

}  // namespace

TEST(DrainingReads, AReadAfterAShortOneWakesWhenTheNextBytesCome) {
  Pair p;
  DrainingReads reads(p.ours);
  for (int round = 0; round < 50; ++round) {
    const std::string sent = "piece " + std::to_string(round);
    // Alternately before and after the read starts: waiting for readiness must not miss either.
    std::optional<std::pair<error_code, std::string>> got;
    std::string buf(64, '\0');
    if (round % 2 == 0) p.send(sent);
    reads.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t n) { got.emplace(ec, buf.substr(0, n)); });
    p.io.restart();
    p.io.poll();  // starts it: a short read before marked the socket drained, so it waits
    if (round % 2 == 1) p.send(sent);
    for (int i = 0; i < 500 && !got; ++i) p.io.run_one_for(milliseconds(10));
    ASSERT_TRUE(got) << "round " << round;
    EXPECT_FALSE(got->first) << got->first.message();
    EXPECT_EQ(got->second, sent);
  }
}

TEST(DrainingReads, AFullReadLeavesTheRestForTheNextReadAtOnce) {
  Pair p;
  DrainingReads reads(p.ours);
  p.send("0123456789");
  auto first = read_once(p, reads, 4);  // fills its room: not proof of a drained socket
  ASSERT_TRUE(first);
  EXPECT_EQ(first->second, "0123");
  auto second = read_once(p, reads, 64, milliseconds(2000));  // the rest, with no new readiness
  ASSERT_TRUE(second);
  EXPECT_EQ(second->second, "456789");
}

TEST(DrainingReads, ThePeersCloseEndsAWaitingRead) {
  Pair p;
  DrainingReads reads(p.ours);
  p.send("hello");
  auto first = read_once(p, reads, 64);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->second, "hello");
  std::optional<error_code> ended;
  char buf[16];
  reads.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t) { ended = ec; });
  p.io.restart();
  p.io.poll();
  p.peer.close();
  for (int i = 0; i < 500 && !ended; ++i) p.io.run_one_for(milliseconds(10));
  ASSERT_TRUE(ended);
  EXPECT_EQ(*ended, asio::error::eof);
}

TEST(DrainingReads, AWaitingReadIsCancelledBySocketAndBySignal) {
  Pair p;
  DrainingReads reads(p.ours);
  char buf[16];
  std::optional<error_code> by_socket;
  reads.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t) { by_socket = ec; });
  p.io.poll();
  p.ours.cancel();
  for (int i = 0; i < 500 && !by_socket; ++i) p.io.run_one_for(milliseconds(10));
  ASSERT_TRUE(by_socket);
  EXPECT_EQ(*by_socket, asio::error::operation_aborted);

  asio::cancellation_signal signal;
  std::optional<error_code> by_signal;
  reads.async_read_some(asio::buffer(buf),
                        asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, std::size_t) { by_signal = ec; }));
  p.io.restart();
  p.io.poll();
  signal.emit(asio::cancellation_type::terminal);
  for (int i = 0; i < 500 && !by_signal; ++i) p.io.run_one_for(milliseconds(10));
  ASSERT_TRUE(by_signal);
  EXPECT_EQ(*by_signal, asio::error::operation_aborted);
  // The socket still reads afterwards.
  p.send("after");
  auto next = read_once(p, reads, 64);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->second, "after");
}

TEST_F(ServerFixture, AKeptAliveConnectionGetsEachRequestSentAfterTheLastReply) {
  start();
  RawClient c(ep_);
  // Each request goes out only once the reply before it is in: every wait for a next request
  // finds the socket drained and must wake on the request's arrival.
  for (int i = 1; i <= 30; ++i) {
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(c.read_until([i](const std::string& r) { return test::count_of(r, "hello") == static_cast<std::size_t>(i); }))
        << "request " << i << " got no reply: " << c.received();
  }
}

// A server whose kept-alive connections may idle 300 ms, and a client it has answered once.
class IdleLimit : public ServerFixture {
protected:
  static constexpr milliseconds kLimit{300};
  RawClient& answered_once() {
    http::ServerLimits limits;
    limits.idle_timeout = kLimit;
    start(limits);
    client_.emplace(ep_);
    sent_ = std::chrono::steady_clock::now();
    client_->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(client_->read_until_contains("hello"));
    return *client_;
  }
  std::optional<RawClient> client_;
  std::chrono::steady_clock::time_point sent_;  // before the request: the server's idle wait starts later
};

TEST_F(IdleLimit, AnIdleKeptAliveConnectionIsClosedAfterTheLimit) {
  RawClient& c = answered_once();
  ASSERT_TRUE(c.read_to_close(seconds(10)));
  // Not before the limit. Measured from before the request went out: the server starts its
  // wait once the reply is written, which may be before this client has read it.
  EXPECT_GE(std::chrono::steady_clock::now() - sent_, kLimit);
}

TEST_F(IdleLimit, AClientThatHalfClosesAfterItsRequestGetsItsReplyAndIsLetGo) {
  RawClient& c = answered_once();
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  c.shut_down_sending();  // the FIN may come with the request: then the idle limit ends it
  ASSERT_TRUE(c.read_to_close(seconds(10)));
  EXPECT_EQ(test::count_of(c.received(), "hello"), 2u) << c.received();
}
