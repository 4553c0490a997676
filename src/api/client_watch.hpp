#pragma once
// Watches a client while its request runs, for the sinks that write nothing to it for a long
// while (a reply translated or collected whole, a stream whose node sends lines that make no
// event): they cannot learn from a failed write that it left. One reader watches the socket;
// left() answers at once (a sink's data()) and gone() waits (admission, the relay's wait for
// a node's first byte).
#include "http/exchange.hpp"
#include "orchestrate/cancel.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <memory>

namespace hydra::api {

class ClientWatch {
public:
  ClientWatch(http::Exchange& ex, http::asio::any_io_executor executor) : ex_(ex), left_(std::make_shared<orchestrate::Cancel>(executor)), done_(executor) {}

  bool left() const { return left_->cancelled(); }
  http::awaitable<void> gone() { return left_->wait(); }
  // Set when the client hangs up; a sink may hand it on to whatever waits for that.
  const std::shared_ptr<orchestrate::Cancel>& signal() const { return left_; }

  // Runs `work` and watches the client until `work` ends.
  template <class T>
  http::awaitable<T> run(http::awaitable<T> work) {
    using namespace boost::asio::experimental::awaitable_operators;
    co_return co_await (finish(std::move(work)) && watch());
  }

private:
  template <class T>
  http::awaitable<T> finish(http::awaitable<T> work) {
    T result = co_await std::move(work);
    done_.cancel();
    co_return result;
  }
  http::awaitable<void> watch();

  http::Exchange& ex_;
  std::shared_ptr<orchestrate::Cancel> left_;  // the client hung up
  orchestrate::Cancel done_;  // the work ended: stop watching
};

}  // namespace hydra::api
