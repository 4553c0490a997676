#pragma once
// `hydra sim --rpc-server`: a stand-in for llama.cpp's rpc-server. Like the real one it serves
// one client at a time (listen backlog 1; the next connection is accepted only when the current
// one has closed, so a second client's HELLO waits unanswered) and speaks the bytes of
// rpc_wire.hpp. A plain Asio acceptor; no HTTP.
#include "sim/config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>
#include <memory>

namespace hydra::sim {

class RpcServer {
public:
  RpcServer(boost::asio::any_io_executor executor, RpcServerConfig config);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Binds the configured IPv4 address (port 0: any free port) and starts serving.
  boost::system::result<boost::asio::ip::tcp::endpoint> start();

  struct State;  // shared with the serving coroutine

private:
  std::shared_ptr<State> state_;
};

// Serves until SIGINT/SIGTERM. Prints "rpc-server NAME listening on IP:PORT" first (flushed).
int run_rpc_server(const RpcServerConfig& config);

}  // namespace hydra::sim
