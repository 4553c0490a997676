#pragma once
// Hydra's response cache: the tiers (L1 in process, L2 SQLite), the flights in the air, and
// what it counted. Owned by `hydra serve`, shared by every thread (each part guards itself).
// The api layer decides what to ask it (api/cache_dispatch.cpp); this knows nothing of HTTP.
#include "memory/flight.hpp"
#include "memory/lru.hpp"
#include "memory/policy.hpp"
#include "memory/redis_tier.hpp"
#include "memory/semantic.hpp"
#include "memory/sqlite_tier.hpp"

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace hydra::memory {

struct CacheSettings {
  Mode mode = Mode::deterministic;
  std::size_t l1_bytes = std::size_t{256} << 20;   // cache.l1_mb
  std::size_t l2_bytes = std::size_t{4096} << 20;  // cache.l2_mb; 0: no L2
  int64_t ttl_s = 86400;                           // cache.ttl_s: an entry's default lifetime
  std::string l2_path;                             // the SQLite file (data dir); empty: no L2
  std::string redis_url;                           // cache.redis_url: L3, shared; empty: no L3
  std::chrono::milliseconds redis_timeout{50};     // cache.redis_timeout_ms
  struct Semantic {
    bool enabled = false;              // cache.semantic.enabled
    std::string model;                 // cache.semantic.model: an embedding model the fleet has
    double threshold = 0.95;           // cache.semantic.threshold (cosine)
    std::size_t max_entries = 100000;  // cache.semantic.max_entries
  } semantic;
};

// The tiers a reply can come from, for counters and the X-Hydra-Cache header.
enum class Tier { l1, l2, l3 };
constexpr int kTiers = 3;
const char* to_string(Tier t);

struct CacheCounts {
  uint64_t hits[kTiers] = {};    // by Tier
  uint64_t misses[kTiers] = {};  // by Tier: looked there and found nothing (or could not look)
  uint64_t semantic_hits = 0, semantic_misses = 0;  // questions embedded and looked up
  uint64_t bypass = 0;          // requests the policy kept away from the cache
  uint64_t coalesced = 0;       // requests that joined a flight instead of asking the fleet
  uint64_t stored = 0;
};

class Cache {
public:
  // Throws (at start-up) when the SQLite file cannot be opened or the Redis URL is malformed.
  explicit Cache(CacheSettings settings);
  const CacheSettings& settings() const { return settings_; }

  struct Hit {
    std::shared_ptr<const Entry> entry;
    Tier tier = Tier::l1;
  };
  // L1, then L2, then L3; a hit in a lower tier is promoted to the tiers above it. `count`:
  // in the tiers' hit and miss counters (not for the semantic tier's fetch of its match).
  http::awaitable<std::optional<Hit>> lookup(const std::string& key, int64_t now_ms, bool count = true);
  // Stores a complete reply in every tier, with `ttl_s` (the default when none; 0: not kept).
  void store(const std::string& key, Entry entry, std::optional<int64_t> ttl_s, int64_t now_ms);
  // Drops every entry (of `model` when given) from every tier; returns how many went from each.
  http::awaitable<std::array<std::size_t, kTiers>> purge(std::string model);

  Flights& flights() { return flights_; }

  // The semantic tier; null unless cache.semantic.enabled.
  const SemanticIndex* semantic() const { return semantic_.get(); }
  void count_semantic(bool hit) { ++(hit ? semantic_hits_ : semantic_misses_); }
  // True the first time only: for a warning logged once (the semantic model gave no embedding).
  bool first_semantic_failure() { return !semantic_warned_.exchange(true); }
  // An answered question's embedding, for later questions worded otherwise (kept in L2 too).
  void remember(const std::string& scope, const std::string& key, const std::string& model, std::vector<float> vector);
  void count_bypass() { ++bypass_; }
  void count_coalesced() { ++coalesced_; }
  CacheCounts counts() const;
  TierStats l1_stats() const { return l1_.stats(); }
  std::optional<TierStats> l2_stats() const;
  bool has_l3() const { return l3_ != nullptr; }
  bool l3_up() const { return l3_ && l3_->up(); }
  uint64_t l3_errors() const { return l3_ ? l3_->errors() : 0; }
  void flush();  // waits for queued L2 writes (tests)

private:
  CacheSettings settings_;
  LruTier l1_;
  std::unique_ptr<SqliteTier> l2_;
  std::unique_ptr<RedisTier> l3_;
  std::unique_ptr<SemanticIndex> semantic_;
  Flights flights_;
  std::atomic<uint64_t> hits_[kTiers]{}, misses_[kTiers]{};
  std::atomic<uint64_t> bypass_{0}, coalesced_{0}, stored_{0}, semantic_hits_{0}, semantic_misses_{0};
  std::atomic<bool> semantic_warned_{false};
};

// The cache's Prometheus families (hydra_cache_*), appended to /metrics.
std::string render_metrics(const Cache& cache);

}  // namespace hydra::memory
