#include "memory/cache.hpp"

#include <fmt/format.h>

namespace hydra::memory {

const char* to_string(Tier t) { return t == Tier::l1 ? "l1" : "l2"; }

Cache::Cache(CacheSettings settings) : settings_(std::move(settings)), l1_(settings_.l1_bytes) {
  if (!settings_.l2_path.empty() && settings_.l2_bytes > 0)
    l2_ = std::make_unique<SqliteTier>(settings_.l2_path, settings_.l2_bytes);
}

http::awaitable<std::optional<Cache::Hit>> Cache::lookup(const std::string& key, int64_t now_ms) {
  if (auto e = l1_.get(key, now_ms)) {
    ++hits_[0];
    co_return Hit{std::move(e), Tier::l1};
  }
  ++misses_[0];
  if (!l2_) co_return std::nullopt;
  auto e = co_await l2_->get(key, now_ms);
  if (!e) {
    ++misses_[1];
    co_return std::nullopt;
  }
  ++hits_[1];
  l1_.put(key, e);
  co_return Hit{std::move(e), Tier::l2};
}

void Cache::store(const std::string& key, Entry entry, std::optional<int64_t> ttl_s, int64_t now_ms) {
  const int64_t ttl = ttl_s.value_or(settings_.ttl_s);
  if (ttl <= 0) return;
  entry.created_unix_ms = now_ms;
  entry.expires_unix_ms = now_ms + ttl * 1000;
  auto shared = std::make_shared<const Entry>(std::move(entry));
  l1_.put(key, shared);
  if (l2_) l2_->put(key, shared);
  ++stored_;
}

http::awaitable<std::size_t> Cache::purge(std::string model) {
  std::size_t n = l1_.erase(model);
  if (l2_) n += co_await l2_->erase(std::move(model));
  co_return n;
}

CacheCounts Cache::counts() const {
  CacheCounts c;
  for (int i = 0; i < 2; ++i) {
    c.hits[i] = hits_[i].load();
    c.misses[i] = misses_[i].load();
  }
  c.bypass = bypass_.load();
  c.coalesced = coalesced_.load();
  c.stored = stored_.load();
  return c;
}

std::optional<TierStats> Cache::l2_stats() const {
  if (!l2_) return std::nullopt;
  return l2_->stats();
}

void Cache::flush() {
  if (l2_) l2_->flush();
}

std::string render_metrics(const Cache& cache) {
  const CacheCounts c = cache.counts();
  std::string out;
  out += "# HELP hydra_cache_requests_total Cache lookups by tier and result (hit, miss), and requests the policy kept away (bypass).\n";
  out += "# TYPE hydra_cache_requests_total counter\n";
  for (int i = 0; i < 2; ++i) {
    const char* tier = to_string(static_cast<Tier>(i));
    out += fmt::format("hydra_cache_requests_total{{tier=\"{}\",result=\"hit\"}} {}\n", tier, c.hits[i]);
    out += fmt::format("hydra_cache_requests_total{{tier=\"{}\",result=\"miss\"}} {}\n", tier, c.misses[i]);
  }
  out += fmt::format("hydra_cache_requests_total{{tier=\"none\",result=\"bypass\"}} {}\n", c.bypass);
  out += "# HELP hydra_cache_coalesced_total Requests answered by joining an identical request already on its way to the fleet.\n";
  out += "# TYPE hydra_cache_coalesced_total counter\n";
  out += fmt::format("hydra_cache_coalesced_total {}\n", c.coalesced);
  const TierStats l1 = cache.l1_stats();
  const auto l2 = cache.l2_stats();
  out += "# HELP hydra_cache_bytes Bytes each cache tier holds.\n# TYPE hydra_cache_bytes gauge\n";
  out += fmt::format("hydra_cache_bytes{{tier=\"l1\"}} {}\n", l1.bytes);
  if (l2) out += fmt::format("hydra_cache_bytes{{tier=\"l2\"}} {}\n", l2->bytes);
  out += "# HELP hydra_cache_entries Entries each cache tier holds.\n# TYPE hydra_cache_entries gauge\n";
  out += fmt::format("hydra_cache_entries{{tier=\"l1\"}} {}\n", l1.entries);
  if (l2) out += fmt::format("hydra_cache_entries{{tier=\"l2\"}} {}\n", l2->entries);
  out += "# HELP hydra_cache_evictions_total Entries dropped to stay within a tier's budget.\n";
  out += "# TYPE hydra_cache_evictions_total counter\n";
  out += fmt::format("hydra_cache_evictions_total{{tier=\"l1\"}} {}\n", l1.evictions);
  if (l2) out += fmt::format("hydra_cache_evictions_total{{tier=\"l2\"}} {}\n", l2->evictions);
  return out;
}

}  // namespace hydra::memory
