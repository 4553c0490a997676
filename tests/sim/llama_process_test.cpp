// `hydra sim` as processes: a llama-server sim holding an rpc-server (which is then busy for
// anyone else) exits 1 when that rpc-server is killed, and cannot start without it.
#include "support/http_client.hpp"
#include "support/process.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

using namespace hydra::test;
using namespace std::chrono;

namespace {

// The port of a "... listening on [http://]127.0.0.1:PORT" line.
std::optional<uint16_t> listening_port(Process& p, const std::string& prefix) {
  auto line = p.wait_for_line([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, seconds(10));
  if (!line) return std::nullopt;
  std::smatch m;
  if (!std::regex_search(*line, m, std::regex(R"(127\.0\.0\.1:(\d+)$)"))) return std::nullopt;
  return static_cast<uint16_t>(std::stoi(m[1]));
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Whether an old-style HELLO on a new connection is answered within `limit`.
bool hello_answered(uint16_t port, milliseconds limit) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool answered = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::send(fd, "\x0e\0\0\0\0\0\0\0\0", 9, MSG_NOSIGNAL) == 9) {
    pollfd p{fd, POLLIN, 0};
    char buf[16];
    answered = ::poll(&p, 1, static_cast<int>(limit.count())) == 1 && ::recv(fd, buf, sizeof buf, 0) > 0;
  }
  ::close(fd);
  return answered;
}

}  // namespace

TEST(LlamaSimProcess, ExitsWhenItsRpcServerDies) {
  Process rpc({hydra_binary(), "sim", "--rpc-server", "--name", "r1", "--listen", "127.0.0.1:0", "--rpc-device", "7/8"});
  auto rpc_port = listening_port(rpc, "rpc-server r1 listening on ");
  ASSERT_TRUE(rpc_port);
  const std::string address = "127.0.0.1:" + std::to_string(*rpc_port);
  Process llama({hydra_binary(), "sim", "--kind", "llama-server", "--name", "l1", "--listen", "127.0.0.1:0", "--model",
                 "tiny=1", "--load-seconds", "0", "--rpc", address});
  auto http_port = listening_port(llama, "node l1 listening on http://");
  ASSERT_TRUE(http_port) << slurp(llama.stderr_path());
  const Endpoint ep(boost::asio::ip::make_address("127.0.0.1"), *http_port);
  EXPECT_TRUE(wait_for([&] { return get(ep, "/health").status == 200; }, seconds(5)));
  // The device's memory, read at start (7 GB free of 8 GB).
  EXPECT_NE(slurp(llama.stderr_path()).find("6675 MiB free of 7629 MiB"), std::string::npos) << slurp(llama.stderr_path());
  // The llama-server sim holds its connection: another client's HELLO goes unanswered.
  EXPECT_FALSE(hello_answered(*rpc_port, milliseconds(300)));

  rpc.kill_now();
  EXPECT_EQ(llama.wait_exit(seconds(5)), 1);
  EXPECT_NE(slurp(llama.stderr_path()).find("rpc-server " + address + " closed the connection"), std::string::npos)
      << slurp(llama.stderr_path());

  // Nothing listens there now: a new one cannot attach and exits at once.
  Process again({hydra_binary(), "sim", "--kind", "llama-server", "--listen", "127.0.0.1:0", "--model", "tiny=1", "--rpc", address});
  EXPECT_EQ(again.wait_exit(seconds(5)), 1);
  EXPECT_NE(slurp(again.stderr_path()).find("cannot connect"), std::string::npos) << slurp(again.stderr_path());
}
