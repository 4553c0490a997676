// The Ollama API's sink at the end of a node's chunked reply: told that the node's body ends
// with the next bytes (ReplySink::body_ends), it keeps them for the end of the reply and sends
// the last chunk and the chunked body's end in one write; any other call sends them first, in
// order. Against the real server and a raw client on loopback.
#include "api/exchange_sink.hpp"
#include "http/server_fixture.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>

using namespace hydra;
using namespace std::chrono;
using api::ExchangeSink;
using test::ServerFixture;
namespace asio = http::asio;
namespace bhttp = http::bhttp;

namespace {

constexpr std::string_view kDone = "{\"done\":true}\n";

// Begins an NDJSON reply through `sink`, as the relay does after a node's head.
http::awaitable<bool> begin(ExchangeSink& sink) {
  api::Served served;
  served.node_id = "n1";
  std::string type = "application/x-ndjson";
  std::optional<bool> gone = sink.begin_now(200, type, std::nullopt, served);
  if (!gone) gone = co_await sink.begin(200, type, std::nullopt, served);
  co_return *gone;
}

// Hands `bytes` on as the relay's pump does: at once when the sink can, else awaited.
http::awaitable<bool> data(ExchangeSink& sink, std::string_view bytes) {
  std::optional<bool> gone = sink.data_now(bytes);
  if (!gone) gone = co_await sink.data(bytes);
  co_return *gone;
}

// The body of a GET of `target`, which must be a whole 200 reply.
std::string whole_body(const http::tcp::endpoint& ep, std::string target) {
  const auto r = test::get(ep, std::move(target));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  return r.body;
}

}  // namespace

TEST_F(ServerFixture, TheLastBytesOfANodesBodyGoOutWithTheEndOfTheReply) {
  std::promise<void> held;
  asio::steady_timer gate(ioc_, hours(1));
  router_.add(bhttp::verb::get, "/held", [&](http::Exchange& ex) -> http::awaitable<void> {
    ExchangeSink sink(ex);
    if (co_await begin(sink) || co_await data(sink, "{\"a\":1}\n")) co_return;
    sink.body_ends();
    EXPECT_EQ(sink.data_now(kDone), std::optional<bool>(false));  // taken: held, nothing to await
    held.set_value();
    co_await gate.async_wait(http::use_nothrow);  // until the test has looked
    if (!sink.end_now()) co_await sink.end();
  });
  start();
  test::RawClient client(ep_);
  client.send("GET /held HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_EQ(held.get_future().wait_for(seconds(5)), std::future_status::ready);
  ASSERT_TRUE(client.read_until_contains("{\"a\":1}\n\r\n"));
  // The final line was not written on its own: it waits for the end of the reply.
  EXPECT_FALSE(client.read_until_contains("done", milliseconds(200))) << client.received();
  asio::post(ioc_, [&] { gate.cancel(); });
  ASSERT_TRUE(client.read_until_contains("0\r\n\r\n")) << client.received();
  const std::string& got = client.received();
  EXPECT_TRUE(got.ends_with("e\r\n{\"done\":true}\n\r\n0\r\n\r\n")) << got;
  EXPECT_EQ(test::count_of(got, "0\r\n\r\n"), 1u) << got;
}

TEST_F(ServerFixture, HeldLastBytesGoBeforeAnErrorLine) {
  router_.add(bhttp::verb::get, "/broke", [](http::Exchange& ex) -> http::awaitable<void> {
    ExchangeSink sink(ex);
    if (co_await begin(sink)) co_return;
    sink.body_ends();
    sink.data_now("{\"response\":\"x\"}");  // a line the node never finished
    co_await sink.broke("node n1 broke off");
  });
  start();
  EXPECT_EQ(whole_body(ep_, "/broke"), "{\"response\":\"x\"}\n{\"error\":\"node n1 broke off\"}\n");
}

TEST_F(ServerFixture, HeldLastBytesGoBeforeWhatFollowsThem) {
  router_.add(bhttp::verb::get, "/more", [](http::Exchange& ex) -> http::awaitable<void> {
    ExchangeSink sink(ex);
    if (co_await begin(sink)) co_return;
    sink.body_ends();
    if (co_await data(sink, "{\"b\":1}\n") || co_await data(sink, kDone)) co_return;
    if (!sink.end_now()) co_await sink.end();
  });
  start();
  EXPECT_EQ(whole_body(ep_, "/more"), "{\"b\":1}\n{\"done\":true}\n");
}
