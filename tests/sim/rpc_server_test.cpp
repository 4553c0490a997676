// `hydra sim --rpc-server`'s bytes over a raw TCP socket, in-process: both HELLO shapes by
// protocol version, device count and memory, the closes (no HELLO first, a second HELLO, an
// unknown or unsupported command, a wrong length, a device out of range), and one client at
// a time.
#include "sim/rpc_server.hpp"
#include "sim/rpc_wire.hpp"

#include <arpa/inet.h>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace hydra;
using namespace std::chrono;
namespace rpc = hydra::sim::rpc;

namespace {

class RpcServerHarness {
public:
  explicit RpcServerHarness(sim::RpcServerConfig config) {
    config.listen = "127.0.0.1:0";
    server_ = std::make_unique<sim::RpcServer>(ioc_.get_executor(), std::move(config));
    auto bound = server_->start();
    if (!bound) throw std::runtime_error(bound.error().message());
    port_ = bound->port();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~RpcServerHarness() {
    ioc_.stop();
    thread_.join();
    server_.reset();
  }
  uint16_t port() const { return port_; }

private:
  boost::asio::io_context ioc_;
  std::unique_ptr<sim::RpcServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

// A blocking client whose every read has a deadline.
class RawClient {
public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
  }
  ~RawClient() { ::close(fd_); }
  void send(const std::string& bytes) { ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size())); }

  enum class Got { bytes, closed, timeout };
  // Reads exactly `n` bytes into `out`, or tells why not.
  Got read(std::size_t n, std::string& out, milliseconds limit = milliseconds(3000)) {
    out.clear();
    const auto deadline = steady_clock::now() + limit;
    while (out.size() < n) {
      const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
      if (left <= 0) return Got::timeout;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[256];
      const ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (got <= 0) return Got::closed;
      out.append(buf, static_cast<std::size_t>(got));
    }
    return Got::bytes;
  }
  // A reply's payload (the 8-byte length first), or nullopt when the server closed instead.
  std::optional<std::string> reply() {
    std::string length, payload;
    if (read(8, length) != Got::bytes) return std::nullopt;
    if (read(rpc::get_u64(length), payload) != Got::bytes) return std::nullopt;
    return payload;
  }
  bool closed_by_server() {
    std::string ignored;
    return read(1, ignored) == Got::closed;
  }

private:
  int fd_ = -1;
};

sim::RpcServerConfig config(int major, int minor, int patch) {
  sim::RpcServerConfig c;
  c.major = major;
  c.minor = minor;
  c.patch = patch;
  c.devices = {{6, 8}, {20, 24}};
  return c;
}

std::string u32(uint32_t v) {
  std::string s;
  rpc::put_u32(s, v);
  return s;
}

const std::string kOldHello("\x0e\0\0\0\0\0\0\0\0", 9);
std::string caps_hello() { return rpc::request(rpc::cmd::hello, std::string(24, '\0')); }

}  // namespace

TEST(RpcServer, OldHelloThenDevicesByteForByte) {
  RpcServerHarness server(config(3, 7, 0));
  RawClient c(server.port());
  c.send(kOldHello);
  std::string bytes;
  ASSERT_EQ(c.read(11, bytes), RawClient::Got::bytes);
  EXPECT_EQ(bytes, std::string("\x03\0\0\0\0\0\0\0\x03\x07\x00", 11));
  c.send(std::string("\x0f\0\0\0\0\0\0\0\0", 9));  // DEVICE_COUNT
  ASSERT_EQ(c.read(12, bytes), RawClient::Got::bytes);
  EXPECT_EQ(bytes, std::string("\x04\0\0\0\0\0\0\0\x02\0\0\0", 12));
  c.send(std::string("\x0b\x04\0\0\0\0\0\0\0\x01\0\0\0", 13));  // GET_DEVICE_MEMORY 1
  ASSERT_EQ(c.read(24, bytes), RawClient::Got::bytes);
  EXPECT_EQ(rpc::get_u64(bytes), 16u);
  EXPECT_EQ(rpc::get_u64(bytes.substr(8)), 20'000'000'000u);   // free
  EXPECT_EQ(rpc::get_u64(bytes.substr(16)), 24'000'000'000u);  // total
  c.send(rpc::request(rpc::cmd::get_alignment, u32(0)));
  EXPECT_EQ(c.reply().value_or("").size(), 8u);
  c.send(rpc::request(rpc::cmd::get_max_size, u32(1)));
  EXPECT_EQ(c.reply().value_or("").size(), 8u);
  c.send(rpc::request(rpc::cmd::get_device_memory, u32(2)));  // no device 2
  EXPECT_TRUE(c.closed_by_server());
}

TEST(RpcServer, NewHelloShapeFromMajor4) {
  RpcServerHarness server(config(4, 0, 1));
  {
    RawClient c(server.port());
    c.send(caps_hello());
    std::string bytes;
    ASSERT_EQ(c.read(36, bytes), RawClient::Got::bytes);
    std::string expected("\x1c\0\0\0\0\0\0\0\x04\x00\x01\x00", 12);
    expected += std::string(24, '\0');
    EXPECT_EQ(bytes, expected);
    c.send(rpc::request(rpc::cmd::device_count));
    EXPECT_EQ(c.reply(), u32(2));
  }
  RawClient old(server.port());  // the old shape to a new server: closed, no reply
  old.send(kOldHello);
  EXPECT_TRUE(old.closed_by_server());
}

TEST(RpcServer, CapsHelloToAnOldServerIsClosed) {
  RpcServerHarness server(config(3, 7, 0));
  RawClient c(server.port());
  c.send(caps_hello());
  EXPECT_TRUE(c.closed_by_server());
}

TEST(RpcServer, BeforeThreeOneDeviceWithEmptyQueries) {
  RpcServerHarness server(config(2, 0, 0));
  {
    RawClient c(server.port());
    c.send(kOldHello);
    EXPECT_EQ(c.reply(), std::string("\x02\x00\x00", 3));
    c.send(rpc::request(rpc::cmd::get_device_memory));
    auto memory = c.reply();
    ASSERT_TRUE(memory);
    EXPECT_EQ(rpc::get_u64(*memory), 6'000'000'000u);
    c.send(rpc::request(rpc::cmd::get_alignment));
    EXPECT_EQ(rpc::get_u64(c.reply().value_or(std::string(8, '\0'))), rpc::kAlignment);
    c.send(rpc::request(rpc::cmd::device_count));  // not a command before 3.0.0
    EXPECT_TRUE(c.closed_by_server());
  }
  RawClient indexed(server.port());
  indexed.send(kOldHello);
  ASSERT_TRUE(indexed.reply());
  indexed.send(rpc::request(rpc::cmd::get_device_memory, u32(0)));  // a 3.x request: wrong length
  EXPECT_TRUE(indexed.closed_by_server());
}

TEST(RpcServer, RuleBreakersAreClosedWithoutReply) {
  RpcServerHarness server(config(3, 7, 0));
  const std::vector<std::vector<std::string>> sessions = {
      {rpc::request(rpc::cmd::device_count)},                            // no HELLO first
      {kOldHello, kOldHello},                                            // a second HELLO
      {kOldHello, rpc::request(200)},                                    // an unknown code
      {kOldHello, rpc::request(0, std::string(12, '\0'))},               // ALLOC_BUFFER: not emulated
      {kOldHello, rpc::request(rpc::cmd::get_device_memory, std::string(8, '\0'))},  // wrong length
      {kOldHello, rpc::request(rpc::cmd::device_count, u32(0))},         // a payload where none goes
  };
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    RawClient c(server.port());
    for (std::size_t j = 0; j < sessions[i].size(); ++j) {
      c.send(sessions[i][j]);
      if (j + 1 < sessions[i].size()) {
        ASSERT_TRUE(c.reply()) << "session " << i;
      }
    }
    EXPECT_TRUE(c.closed_by_server()) << "session " << i;
  }
}

TEST(RpcServer, OneClientAtATime) {
  RpcServerHarness server(config(3, 7, 0));
  auto first = std::make_unique<RawClient>(server.port());
  first->send(kOldHello);
  ASSERT_TRUE(first->reply());
  RawClient second(server.port());  // the kernel completes its connect (backlog 1)
  second.send(kOldHello);
  std::string bytes;
  EXPECT_EQ(second.read(11, bytes, milliseconds(300)), RawClient::Got::timeout);  // waits unserved
  first.reset();  // the first leaves: the second is accepted and answered
  ASSERT_EQ(second.read(11, bytes), RawClient::Got::bytes);
  EXPECT_EQ(bytes.substr(8), std::string("\x03\x07\x00", 3));
}
