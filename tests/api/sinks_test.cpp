// The reply sinks against misbehaving nodes and clients that leave, end to end: `hydra serve`
// in front of `hydra sim` processes. A node that floods one endless line (sim fault "flood",
// about 6 MB/s) must be cut off at limits.line_kb / limits.reply_mb with an error in the API's
// shape and the response closed; a client that leaves a reply answered whole (/generate,
// OpenAI without stream) must make the gateway drop the node's request.
#include "support/fleet.hpp"
#include "support/sim_harness.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

const char* kModel = "llama3.2:3b";

int64_t stat(Fleet& f, std::size_t i, const char* key) {
  auto s = f.sim_stats(i);
  return s.is_object() ? s.at(key).to_number<int64_t>() : -1;
}

std::vector<std::string> sim_args(double tps) {
  return {"--model", "llama3.2:3b=2", "--loaded", "llama3.2:3b", "--tokens-per-second", fmt::format("{}", tps),
          "--load-seconds", "0.05"};
}

void start_flooding(Fleet& f, std::vector<std::string> env = {}) {
  f.add_sim("a", sim_args(100));
  f.start_gateway(std::move(env));
  ASSERT_EQ(post(f.sim(0).endpoint, "/_sim/fault", R"({"mode":"flood"})").status, 200);
}

HttpReply call(Fleet& f, std::string target, std::string body) {
  HttpCall c;
  c.method = "POST";
  c.target = std::move(target);
  c.body = std::move(body);
  c.timeout = seconds(15);  // the flood lasts 40 s: an answer before this came from the limit
  return request(f.gateway(), c);
}

std::string chat(bool stream) {
  return fmt::format(R"({{"model":"{}","messages":[{{"role":"user","content":"hi"}}],"stream":{}}})", kModel,
                     stream ? "true" : "false");
}

std::string generate(bool stream) {
  return fmt::format(R"({{"model":"{}","prompt":"tell me a long story","stream":{}}})", kModel,
                     stream ? "true" : "false");
}

// The node saw its request's connection closed (the sim counts the request as cancelled).
void expect_node_dropped(Fleet& f) {
  EXPECT_TRUE(wait_for([&] { return stat(f, 0, "cancelled") == 1; }, seconds(5))) << f.gateway_log();
}

// A client that sends one request and hangs up when told, without reading the reply.
class RawClient {
public:
  RawClient(const Endpoint& ep, const std::string& target, const std::string& body) : socket_(ioc_) {
    socket_.connect(ep);
    std::string head = fmt::format("POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n"
                                   "Content-Length: {}\r\n\r\n",
                                   target, ep.address().to_string(), ep.port(), body.size());
    boost::asio::write(socket_, boost::asio::buffer(head + body));
  }
  void hang_up() {
    boost::system::error_code ec;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
};

// The client leaves while the node streams a reply of many seconds (15 to 43 tokens at 2/s) to
// the gateway, after its first chunks (the gateway is reading the body by then, no longer
// waiting for the head): the node must see its request dropped long before it would finish.
void leave_mid_reply(const std::string& target, const std::string& body, bool streamed_upstream) {
  Fleet f;
  f.add_sim("a", sim_args(2));
  f.start_gateway();
  RawClient client(f.gateway(), target, body);
  ASSERT_TRUE(wait_for([&] { return stat(f, 0, "generations") == 1; }, seconds(10))) << f.gateway_log();
  if (streamed_upstream) {
    ASSERT_TRUE(wait_for([&] { return stat(f, 0, "chunks") >= 2; }, seconds(10)));
  }
  client.hang_up();
  EXPECT_TRUE(wait_for([&] { return stat(f, 0, "cancelled") == 1; }, seconds(3))) << f.gateway_log();
  EXPECT_EQ(stat(f, 0, "completed"), 0);
  EXPECT_EQ(stat(f, 0, "active"), 0);
}

// A streamed request whose client hangs up after the first piece.
void leave_stream(const std::string& target, const std::string& body) {
  Fleet f;
  f.add_sim("a", sim_args(2));
  f.start_gateway();
  HttpCall c;
  c.method = "POST";
  c.target = target;
  c.body = body;
  c.on_data = [](std::string_view) { return false; };
  request(f.gateway(), c);
  EXPECT_TRUE(wait_for([&] { return stat(f, 0, "cancelled") == 1; }, seconds(3))) << f.gateway_log();
  EXPECT_EQ(stat(f, 0, "completed"), 0);
}

}  // namespace

TEST(Sinks, AnOllamaStreamLineOverTheLimitEndsWithAnErrorLine) {
  Fleet f;
  start_flooding(f);
  auto r = call(f, "/api/generate", generate(true));
  ASSERT_EQ(r.status, 200) << r.error << f.gateway_log();
  EXPECT_TRUE(r.complete) << r.error;  // the response ends properly, soon
  EXPECT_LT(r.body.size(), 1100u * 1024);
  // Whole lines only reach the client (continuation.hpp): the endless line is not passed on.
  auto nl = r.body.rfind('\n', r.body.size() - 2);
  auto last = json::parse(r.body.substr(nl == std::string::npos ? 0 : nl + 1)).as_object();
  EXPECT_NE(std::string(last.at("error").as_string()).find("longer than 1024 KiB"), std::string::npos) << last;
  expect_node_dropped(f);
}

TEST(Sinks, TheLineLimitIsASetting) {
  Fleet f;
  start_flooding(f, {"HYDRA_LINE_LIMIT_KB=100"});
  auto r = call(f, "/api/chat", chat(true));
  ASSERT_EQ(r.status, 200) << r.error << f.gateway_log();
  EXPECT_TRUE(r.complete);
  EXPECT_LT(r.body.size(), 120u * 1024);
  EXPECT_NE(r.body.find("longer than 100 KiB"), std::string::npos);
  expect_node_dropped(f);
}

TEST(Sinks, AnOpenAiStreamEndsAfterItsErrorEvent) {
  Fleet f;
  start_flooding(f);
  auto r = call(f, "/v1/chat/completions", chat(true));
  ASSERT_EQ(r.status, 200) << r.error << f.gateway_log();
  EXPECT_TRUE(r.complete) << r.error;  // before: the error event came, the response never ended
  EXPECT_NE(r.body.find("data: {\"error\""), std::string::npos) << r.body.substr(0, 2000);
  EXPECT_NE(r.body.find("longer than 1024 KiB"), std::string::npos);
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
  expect_node_dropped(f);
}

TEST(Sinks, AnOpenAiReplyKeptWholeIsCutAtTheReplyLimit) {
  Fleet f;
  start_flooding(f, {"HYDRA_REPLY_LIMIT_MB=2"});
  auto r = call(f, "/v1/chat/completions", chat(false));
  ASSERT_EQ(r.status, 502) << r.error << r.body.substr(0, 500) << f.gateway_log();
  auto error = json::parse(r.body).at("error").as_object();
  EXPECT_NE(std::string(error.at("message").as_string()).find("longer than 2 MiB"), std::string::npos) << r.body;
  expect_node_dropped(f);
}

TEST(Sinks, GenerateIsCutAtTheLineLimitWithA502) {
  Fleet f;
  start_flooding(f);
  auto r = call(f, "/generate", R"({"model":"llama3.2:3b","prompt":"hi"})");
  ASSERT_EQ(r.status, 502) << r.error << r.body.substr(0, 500) << f.gateway_log();
  EXPECT_NE(std::string(json::parse(r.body).at("error").as_string()).find("longer than 1024 KiB"), std::string::npos)
      << r.body;
  expect_node_dropped(f);
}

TEST(Sinks, GenerateStreamEndsWithAnErrorEvent) {
  Fleet f;
  start_flooding(f);
  auto r = call(f, "/generate/stream", R"({"model":"llama3.2:3b","prompt":"hi"})");
  ASSERT_EQ(r.status, 200) << r.error << f.gateway_log();
  EXPECT_TRUE(r.complete) << r.error;
  EXPECT_NE(r.body.find("event: error"), std::string::npos) << r.body.substr(0, 500);
  EXPECT_NE(r.body.find("longer than 1024 KiB"), std::string::npos);
  expect_node_dropped(f);
}

// /generate asks the node for a stream and answers whole: nothing is written to its client for
// seconds.
TEST(Sinks, GenerateDropsTheNodeWhenItsClientLeaves) { leave_mid_reply("/generate", generate(false), true); }

// These ask the node for a whole reply: the gateway notices while it waits for the head.
TEST(Sinks, AnOpenAiReplyKeptWholeDropsTheNodeWhenItsClientLeaves) {
  leave_mid_reply("/v1/chat/completions", chat(false), false);
}

TEST(Sinks, AnOllamaReplyKeptWholeDropsTheNodeWhenItsClientLeaves) {
  leave_mid_reply("/api/generate", generate(false), false);
}

TEST(Sinks, StreamsDropTheNodeWhenTheirClientLeaves) {
  leave_stream("/generate/stream", R"({"model":"llama3.2:3b","prompt":"tell me a long story"})");
  leave_stream("/v1/chat/completions", chat(true));
}
