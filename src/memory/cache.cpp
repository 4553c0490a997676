#include "memory/cache.hpp"

#include <fmt/format.h>
#include <stdexcept>

namespace hydra::memory {

const char* to_string(Tier t) {
  switch (t) {
    case Tier::l1: return "l1";
    case Tier::l2: return "l2";
    case Tier::l3: return "l3";
  }
  return "?";
}

Cache::Cache(CacheSettings settings) : settings_(std::move(settings)), l1_(settings_.l1_bytes) {
  if (!settings_.l2_path.empty() && settings_.l2_bytes > 0)
    l2_ = std::make_unique<SqliteTier>(settings_.l2_path, settings_.l2_bytes);
  if (!settings_.redis_url.empty()) {
    std::string error;
    auto url = parse_redis_url(settings_.redis_url, error);
    if (!url) throw std::invalid_argument("cache.redis_url: " + error);
    l3_ = std::make_unique<RedisTier>(std::move(*url), settings_.redis_timeout);
  }
  if (settings_.semantic.enabled) {
    if (settings_.semantic.model.empty()) throw std::invalid_argument("cache.semantic.model: an embedding model is needed");
    semantic_ = std::make_unique<SemanticIndex>(settings_.semantic.max_entries);
    if (l2_)
      for (auto& v : l2_->read_vectors()) semantic_->add(v.scope, std::move(v.key), std::move(v.model), std::move(v.vector));
  }
}

void Cache::remember(const std::string& scope, const std::string& key, const std::string& model,
                     std::vector<float> vector) {
  if (!semantic_) return;
  if (l2_) l2_->put_vector({key, scope, model, vector});
  semantic_->add(scope, key, model, std::move(vector));
}

http::awaitable<std::optional<Cache::Hit>> Cache::lookup(const std::string& key, int64_t now_ms, bool count) {
  const auto tally = [count](std::atomic<uint64_t>& n) {
    if (count) ++n;
  };
  if (auto e = l1_.get(key, now_ms)) {
    tally(hits_[0]);
    co_return Hit{std::move(e), Tier::l1};
  }
  tally(misses_[0]);
  if (l2_) {
    if (auto e = co_await l2_->get(key, now_ms)) {
      tally(hits_[1]);
      l1_.put(key, e);
      co_return Hit{std::move(e), Tier::l2};
    }
    tally(misses_[1]);
  }
  if (l3_) {
    if (auto e = co_await l3_->get(key, now_ms)) {
      tally(hits_[2]);
      l1_.put(key, e);
      if (l2_) l2_->put(key, e);
      co_return Hit{std::move(e), Tier::l3};
    }
    tally(misses_[2]);
  }
  co_return std::nullopt;
}

void Cache::store(const std::string& key, Entry entry, std::optional<int64_t> ttl_s, int64_t now_ms) {
  const int64_t ttl = ttl_s.value_or(settings_.ttl_s);
  if (ttl <= 0) return;
  entry.created_unix_ms = now_ms;
  entry.expires_unix_ms = now_ms + ttl * 1000;
  auto shared = std::make_shared<const Entry>(std::move(entry));
  l1_.put(key, shared);
  if (l2_) l2_->put(key, shared);
  if (l3_) l3_->put(key, *shared, now_ms);
  ++stored_;
}

http::awaitable<std::array<std::size_t, kTiers>> Cache::purge(std::string model) {
  std::array<std::size_t, kTiers> n{};
  if (semantic_) semantic_->erase(model);
  n[0] = l1_.erase(model);
  if (l2_) n[1] = co_await l2_->erase(model);
  if (l3_) n[2] = co_await l3_->erase(std::move(model));
  co_return n;
}

CacheCounts Cache::counts() const {
  CacheCounts c;
  for (int i = 0; i < kTiers; ++i) {
    c.hits[i] = hits_[i].load();
    c.misses[i] = misses_[i].load();
  }
  c.bypass = bypass_.load();
  c.semantic_hits = semantic_hits_.load();
  c.semantic_misses = semantic_misses_.load();
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
  for (int i = 0; i < kTiers; ++i) {
    if (i == 1 && !cache.l2_stats()) continue;
    if (i == 2 && !cache.has_l3()) continue;
    const char* tier = to_string(static_cast<Tier>(i));
    out += fmt::format("hydra_cache_requests_total{{tier=\"{}\",result=\"hit\"}} {}\n", tier, c.hits[i]);
    out += fmt::format("hydra_cache_requests_total{{tier=\"{}\",result=\"miss\"}} {}\n", tier, c.misses[i]);
  }
  if (cache.semantic()) {
    out += fmt::format("hydra_cache_requests_total{{tier=\"semantic\",result=\"hit\"}} {}\n", c.semantic_hits);
    out += fmt::format("hydra_cache_requests_total{{tier=\"semantic\",result=\"miss\"}} {}\n", c.semantic_misses);
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
  if (const SemanticIndex* index = cache.semantic())
    out += fmt::format("hydra_cache_entries{{tier=\"semantic\"}} {}\n", index->size());
  out += "# HELP hydra_cache_evictions_total Entries dropped to stay within a tier's budget.\n";
  out += "# TYPE hydra_cache_evictions_total counter\n";
  out += fmt::format("hydra_cache_evictions_total{{tier=\"l1\"}} {}\n", l1.evictions);
  if (l2) out += fmt::format("hydra_cache_evictions_total{{tier=\"l2\"}} {}\n", l2->evictions);
  if (cache.has_l3()) {
    out += "# HELP hydra_cache_redis_up Whether the Redis tier answered its last command (1) or is skipped (0).\n";
    out += "# TYPE hydra_cache_redis_up gauge\n";
    out += fmt::format("hydra_cache_redis_up {}\n", cache.l3_up() ? 1 : 0);
    out += "# HELP hydra_cache_redis_errors_total Redis commands that failed or got no reply in time (the tier was skipped).\n";
    out += "# TYPE hydra_cache_redis_errors_total counter\n";
    out += fmt::format("hydra_cache_redis_errors_total {}\n", cache.l3_errors());
  }
  return out;
}

}  // namespace hydra::memory
