#pragma once
// The cache's third tier: entries in Redis (cache.redis_url), shared by every gateway that
// points at the same Redis, each with its TTL. Keys are "<prefix><cache key>"; a set per model
// ("<prefix>model:<model>") lets DELETE /cache?model= find them. Redis down or slow makes this
// tier answer "miss" within cache.redis_timeout_ms; writes are queued, never waited for.
#include "memory/entry.hpp"
#include "state/redis_link.hpp"

#include <memory>
#include <string>

namespace hydra::memory {

using state::parse_redis_url;
using state::RedisLink;
using state::RedisReply;
using state::RedisUrl;

class RedisTier {
public:
  RedisTier(RedisUrl url, std::chrono::milliseconds timeout, std::string prefix = "hydra:cache:");

  http::awaitable<std::shared_ptr<const Entry>> get(const std::string& key, int64_t now_ms);
  void put(const std::string& key, const Entry& entry, int64_t now_ms);
  http::awaitable<std::size_t> erase(std::string model);  // "" = every entry under the prefix

  bool up() const { return link_.up(); }
  uint64_t errors() const { return link_.errors(); }

private:
  RedisLink link_;
  std::string prefix_;
};

}  // namespace hydra::memory
