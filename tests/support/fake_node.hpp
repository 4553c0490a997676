#pragma once
// A scripted HTTP node for tests: every request goes to the test's handler (broken JSON, wrong
// types, a reply held back...), and the node counts what it was asked, by path. Runs on its
// own thread, on 127.0.0.1 with a free port.
#include "http/server.hpp"
#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace hydra::test {

class FakeNode {
public:
  // `limits`: e.g. a short idle_timeout, for a node that closes kept-alive connections soon.
  explicit FakeNode(http::Handler handler, http::ServerLimits limits = {});
  ~FakeNode();
  FakeNode(const FakeNode&) = delete;
  FakeNode& operator=(const FakeNode&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }
  std::string id() const;   // "127.0.0.1:PORT", as the gateway names it
  std::string url() const;  // "http://127.0.0.1:PORT"
  int hits(const std::string& path) const;
  // Connections open now (it closes an idle one after limits.idle_timeout).
  std::size_t open_connections() const { return server_->open_connections(); }

private:
  boost::asio::io_context ioc_;
  std::unique_ptr<http::Server> server_;
  Endpoint endpoint_;
  mutable std::mutex mu_;
  std::map<std::string, int> hits_;
  std::thread thread_;
};

}  // namespace hydra::test
