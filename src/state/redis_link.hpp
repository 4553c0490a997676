#pragma once
// One connection to Redis through hiredis's async API, driven by Asio: hiredis's read/write
// hooks become waits on the socket in an io_context the link owns and runs on its own thread.
// Callers on any thread co_await command() and resume on their own executor. Every command has
// a deadline (the tier's timeout); a Redis that is down or slow makes commands fail fast,
// logged once when it goes and once when it comes back, and the link reconnects at most once a
// second while it is down. Nothing here throws on the data path.
#include "http/types.hpp"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

struct redisAsyncContext;

namespace hydra::state {

// Where Redis is: redis://[:password@]host[:port][/db].
struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  int db = 0;
};
std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string& error);
// The URL as logs may show it: a password replaced by "***".
std::string without_password(std::string_view url);

// A reply, flattened to what the tiers use.
struct RedisReply {
  bool ok = false;          // false: no reply (down, timeout) or an error reply; `error` says
  std::string error;
  bool nil = false;
  std::string str;          // string, status and bulk replies
  long long integer = 0;
  std::vector<std::string> elements;  // arrays of strings (one level; nested arrays flattened)
};

// A command's words. (g++ 12 rejects braced lists of strings inside coroutines.)
template <class... A>
std::vector<std::string> words(A&&... a) {
  std::vector<std::string> out;
  out.reserve(sizeof...(a));
  (out.emplace_back(std::forward<A>(a)), ...);
  return out;
}

class RedisLink {
public:
  // `purpose` names the link in logs ("cache", "shared state").
  RedisLink(RedisUrl url, std::chrono::milliseconds timeout, std::string purpose = "cache");
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  http::awaitable<RedisReply> command(std::vector<std::string> argv);
  // Queues a command whose reply nobody waits for (writes); returns at once.
  void send(std::vector<std::string> argv);

  // Makes this link a subscriber: on every connection (and again after each reconnect) it
  // subscribes to `channels`, and each message goes to `handler` on the link's own thread. A
  // subscriber link takes no other command. Call once, before anything else.
  using MessageHandler = std::function<void(const std::string& channel, const std::string& payload)>;
  void subscribe(std::vector<std::string> channels, MessageHandler handler);

  bool up() const { return up_.load(); }
  uint64_t errors() const { return errors_.load(); }  // commands that failed or got no reply in time

  struct Conn;  // the hiredis context and its Asio watchers (redis_link.cpp)
  // A reply nobody waits for (writes, AUTH, SELECT, the probe's PING): an error reply marks
  // the tier down (`fatal`: and drops the connection: a refused AUTH or SELECT).
  void checked(bool ok, const std::string& error, bool fatal);
  void message(const std::string& kind, const std::string& channel, const std::string& payload);

private:
  void probe();  // once a second while down (and at start): connect and PING
  http::awaitable<RedisReply> run(std::vector<std::string> argv);
  bool ensure_connected();
  void note(bool up, const std::string& why);

  RedisUrl url_;
  std::chrono::milliseconds timeout_;
  std::string purpose_;
  std::vector<std::string> channels_;  // a subscriber's (set before its first connection)
  MessageHandler on_message_;
  http::asio::io_context ioc_;
  http::asio::executor_work_guard<http::asio::io_context::executor_type> work_;
  std::shared_ptr<Conn> conn_;  // the link's thread only
  std::chrono::steady_clock::time_point next_try_{};    // the next connection attempt, while down
  std::chrono::steady_clock::time_point skip_until_{};  // after a timeout: fail fast until then
  std::atomic<bool> up_{false};
  bool ever_up_ = false, logged_down_ = false;
  bool stopping_ = false;  // the destructor began: no new connection, no new probe
  bool setup_refused_ = false;  // the current connection's AUTH or SELECT was refused
  int setup_pending_ = 0;       // its AUTH and SELECT not answered yet: nothing else goes out
  std::atomic<uint64_t> errors_{0};
  std::unique_ptr<http::asio::steady_timer> probe_timer_;  // the link's thread only
  std::thread thread_;
};

}  // namespace hydra::state
