#include "support/redis.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <cstdlib>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace hydra::test {

namespace {

// A port the kernel just gave out on 127.0.0.1 (redis-server takes no port 0).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free port for redis-server");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// redis-server's path (Process runs argv[0] as given, without a PATH search).
std::string redis_binary() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/usr/sbin";
  for (std::size_t pos = 0; pos <= dirs.size();) {
    std::size_t end = dirs.find(':', pos);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(pos, end - pos) + "/redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = end + 1;
  }
  throw std::runtime_error("redis-server is not installed (scripts/install-deps.sh installs it)");
}

}  // namespace

RedisServer::RedisServer(std::vector<std::string> extra) : port_(free_port()), extra_(std::move(extra)) { start(); }

void RedisServer::start() {
  process_.reset();
  std::vector<std::string> argv{redis_binary(), "--bind", "127.0.0.1", "--port", std::to_string(port_), "--save", "",
                                "--appendonly", "no", "--daemonize", "no", "--loglevel", "notice", "--logfile", ""};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  process_ = std::make_unique<Process>(argv);
  auto ready = process_->wait_for_line(
      [](const std::string& l) { return l.find("Ready to accept connections") != std::string::npos; },
      std::chrono::seconds(10));
  if (!ready) throw std::runtime_error("redis-server did not start on port " + std::to_string(port_));
}

void RedisServer::kill_now() {
  if (process_) process_->kill_now();
  process_.reset();
}

}  // namespace hydra::test
