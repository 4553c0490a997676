#pragma once
// The agent's HTTP endpoint: GET /hydra/agent serves the latest reading from a ReadingStore
// (no collection on the io thread), GET / says the agent is running.
#include "agent/sampler.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

#include <memory>

namespace hydra::agent {

class AgentServer {
public:
  // `store` must outlive the server. Use from the io_context thread of `executor`.
  AgentServer(http::asio::any_io_executor executor, const ReadingStore& store);
  ~AgentServer();

  boost::system::result<http::tcp::endpoint> listen(const http::tcp::endpoint& endpoint);
  // More routes (the llama-server launcher's), before listen().
  http::Router& router() { return router_; }
  // Serve HTTPS (`hydra agent --tls-cert`); call before listen().
  void use_tls(std::shared_ptr<http::ServerTls> tls) { server_->use_tls(std::move(tls)); }

private:
  http::Router router_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace hydra::agent
