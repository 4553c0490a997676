#pragma once
// A llama-server sim's rpc-servers (`--rpc h1:p1,h2:p2`): at start it connects to each one as
// llama.cpp's client does (HELLO, DEVICE_COUNT, GET_DEVICE_MEMORY) and then holds the
// connection for the process's life, so that rpc-server is busy for anyone else. When a peer
// closes its connection later (the rpc-server died), the whole process ends with status 1, as
// llama-server aborts.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hydra::sim {

struct RpcLink {
  std::string address;  // "host:port" as given
  boost::asio::ip::tcp::socket socket;
  int major = 0, minor = 0, patch = 0;
  bool with_caps = false;  // answered the newest HELLO
  struct Memory {
    uint64_t free = 0, total = 0;
  };
  std::vector<Memory> devices;
};

// Connects to every address and greets it. Blocks (start-up only); a busy rpc-server (another
// client attached) makes it wait, as llama-server does. Throws std::runtime_error saying which
// rpc-server failed and why.
std::vector<std::unique_ptr<RpcLink>> attach_rpc_servers(boost::asio::io_context& ioc,
                                                         const std::vector<std::string>& addresses);

// From now on, a link closed by its peer prints "rpc-server H:P closed the connection" to
// stderr and ends the process with status 1. The links must live as long as the io_context runs.
void watch_rpc_links(const std::vector<std::unique_ptr<RpcLink>>& links);

}  // namespace hydra::sim
