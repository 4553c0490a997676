#include "api/client_watch.hpp"

namespace hydra::api {

http::awaitable<void> ClientWatch::watch() {
  using namespace boost::asio::experimental::awaitable_operators;
  auto which = co_await (ex_.wait_closed() || done_.wait());
  if (which.index() == 0) left_->cancel();
}

}  // namespace hydra::api
