#pragma once
// A real redis-server for a test: started on 127.0.0.1 on a free port, with no persistence,
// and stopped when the object goes away. kill_now() and start() again model Redis dying and
// coming back on the same port.
#include "support/process.hpp"

#include <memory>
#include <string>
#include <vector>

namespace hydra::test {

class RedisServer {
public:
  // Starts it (with `extra` arguments, e.g. {"--requirepass", "pw"}); throws when redis-server
  // is missing or does not come up.
  explicit RedisServer(std::vector<std::string> extra = {});
  void start();
  void kill_now();
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

private:
  int port_ = 0;
  std::vector<std::string> extra_;
  std::unique_ptr<Process> process_;
};

}  // namespace hydra::test
