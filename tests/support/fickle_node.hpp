#pragma once
// An Ollama-like node that is hard on kept-alive connections, for connection-pool tests. It
// holds model "m:1b" (resident) and answers /api/version, /api/tags, /api/ps, and /api/chat or
// /api/generate with one whole JSON reply. Its faults:
// - it closes a connection idle for `idle_close` (as Ollama's and llama.cpp's servers do after
//   their keep-alive timeouts), and says how many connections it has open;
// - drop_reused: a request that is not its connection's first is read and the connection reset
//   without a byte of reply (a node that closed its end just as the request went out);
// - drop_all: every request is dropped so (a node that fails on fresh connections too);
// - hold: chat/generate replies wait until this many have arrived since reset_arrivals() (at
//   most 5 s), so that a burst really is concurrent and opens as many connections.
#include "support/fake_node.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace hydra::test {

class FickleNode {
public:
  explicit FickleNode(std::chrono::milliseconds idle_close = std::chrono::minutes(2));

  std::atomic<bool> drop_reused{false};
  std::atomic<bool> drop_all{false};
  std::atomic<int> hold{0};
  void reset_arrivals() { arrivals_ = 0; }

  int dropped() const { return dropped_; }                 // requests dropped unanswered
  int replied(const std::string& path) const;              // requests answered, by path
  std::size_t open_connections() const { return node_.open_connections(); }
  std::size_t connections_seen() const;                    // distinct client connections so far
  std::string events() const;  // each request: time, client port, path, dropped or answered
  std::string id() const { return node_.id(); }
  std::string url() const { return node_.url(); }
  const Endpoint& endpoint() const { return node_.endpoint(); }

private:
  http::awaitable<void> handle(http::Exchange& ex);
  std::atomic<int> arrivals_{0};
  std::atomic<int> dropped_{0};
  mutable std::mutex mu_;
  std::set<unsigned short> ports_;  // client ports seen: one per connection
  std::map<std::string, int> replied_;
  std::vector<std::string> events_;
  FakeNode node_;  // last: its thread calls handle(), which uses the members above
};

}  // namespace hydra::test
