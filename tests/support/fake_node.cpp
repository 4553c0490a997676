#include "support/fake_node.hpp"

#include <stdexcept>

namespace hydra::test {

FakeNode::FakeNode(http::Handler handler, http::ServerLimits limits) {
  auto counted = [this, handler = std::move(handler)](http::Exchange& ex) -> http::awaitable<void> {
    {
      std::lock_guard lock(mu_);
      ++hits_[std::string(ex.path())];
    }
    co_await handler(ex);
  };
  server_ = std::make_unique<http::Server>(ioc_.get_executor(), std::move(counted), limits);
  auto bound = server_->listen(Endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  if (!bound) throw std::runtime_error("fake node: " + bound.error().message());
  endpoint_ = *bound;
  thread_ = std::thread([this] { ioc_.run(); });
}

FakeNode::~FakeNode() {
  ioc_.stop();
  thread_.join();
}

std::string FakeNode::id() const { return "127.0.0.1:" + std::to_string(endpoint_.port()); }
std::string FakeNode::url() const { return "http://" + id(); }

int FakeNode::hits(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = hits_.find(path);
  return it == hits_.end() ? 0 : it->second;
}

}  // namespace hydra::test
