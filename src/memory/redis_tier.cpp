#include "memory/redis_tier.hpp"

namespace hydra::memory {

using state::words;

RedisTier::RedisTier(RedisUrl url, std::chrono::milliseconds timeout, std::string prefix)
    : link_(std::move(url), timeout), prefix_(std::move(prefix)) {}

http::awaitable<std::shared_ptr<const Entry>> RedisTier::get(const std::string& key, int64_t now_ms) {
  RedisReply r = co_await link_.command(words("GET", prefix_ + key));
  if (!r.ok || r.nil) co_return nullptr;
  auto e = decode(r.str);
  if (!e || (e->expires_unix_ms != 0 && e->expires_unix_ms <= now_ms)) co_return nullptr;
  co_return std::make_shared<const Entry>(std::move(*e));
}

void RedisTier::put(const std::string& key, const Entry& entry, int64_t now_ms) {
  std::vector<std::string> set{"SET", prefix_ + key, encode(entry)};
  if (entry.expires_unix_ms != 0) {
    if (entry.expires_unix_ms <= now_ms) return;
    set.push_back("PX");
    set.push_back(std::to_string(entry.expires_unix_ms - now_ms));
  }
  link_.send(std::move(set));
  const std::string models = prefix_ + "model:" + entry.model;
  link_.send({"SADD", models, prefix_ + key});
  // The set lives as long as its newest entry (a purge's index, not a store of its own).
  // NX gives a new set its first expiry, GT only ever lengthens it (Redis 7).
  if (entry.expires_unix_ms != 0) {
    const std::string ms = std::to_string(entry.expires_unix_ms - now_ms);
    link_.send({"PEXPIRE", models, ms, "NX"});
    link_.send({"PEXPIRE", models, ms, "GT"});
  }
}

http::awaitable<std::size_t> RedisTier::erase(std::string model) {
  std::size_t gone = 0;
  auto remove = [&](std::vector<std::string> keys) -> http::awaitable<void> {
    if (keys.empty()) co_return;
    keys.insert(keys.begin(), "DEL");
    RedisReply d = co_await link_.command(std::move(keys));
    if (d.ok) gone += static_cast<std::size_t>(d.integer);
  };
  if (!model.empty()) {
    const std::string set = prefix_ + "model:" + model;
    RedisReply members = co_await link_.command(words("SMEMBERS", set));
    if (!members.ok) co_return 0;
    co_await remove(std::move(members.elements));
    co_await link_.command(words("DEL", set));
    co_return gone;
  }
  // Everything under the prefix, a page at a time (bounded: a million keys at most).
  std::string cursor = "0";
  for (int page = 0; page < 1000; ++page) {
    RedisReply r = co_await link_.command(words("SCAN", cursor, "MATCH", prefix_ + "*", "COUNT", "1000"));
    if (!r.ok || r.elements.empty()) break;
    cursor = r.elements.front();
    std::vector<std::string> keys(r.elements.begin() + 1, r.elements.end());
    std::erase_if(keys, [&](const std::string& k) { return k.starts_with(prefix_ + "model:"); });
    co_await remove(std::move(keys));
    if (cursor == "0") break;
  }
  // The model sets go too, uncounted.
  cursor = "0";
  for (int page = 0; page < 1000; ++page) {
    RedisReply r = co_await link_.command(words("SCAN", cursor, "MATCH", prefix_ + "model:*", "COUNT", "1000"));
    if (!r.ok || r.elements.empty()) break;
    cursor = r.elements.front();
    std::vector<std::string> sets(r.elements.begin() + 1, r.elements.end());
    if (!sets.empty()) {
      sets.insert(sets.begin(), "DEL");
      co_await link_.command(std::move(sets));
    }
    if (cursor == "0") break;
  }
  co_return gone;
}

}  // namespace hydra::memory
