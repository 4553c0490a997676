#pragma once
// The cache's first tier: entries in this process, least recently used dropped first, bounded
// in bytes (cache.l1_mb). Any thread may call it: one mutex, held for a map lookup or an
// insertion, never across I/O.
#include "memory/entry.hpp"

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hydra::memory {

struct TierStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t evictions = 0;
};

class LruTier {
public:
  explicit LruTier(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The entry under `key`, unless it has expired by `now_ms` (then it is dropped).
  std::shared_ptr<const Entry> get(const std::string& key, int64_t now_ms);
  // Stores (or replaces) `key`; an entry larger than the whole budget is not kept.
  void put(const std::string& key, std::shared_ptr<const Entry> entry);
  // Drops every entry (of `model` when given); returns how many.
  std::size_t erase(const std::string& model = {});
  TierStats stats() const;

private:
  struct Slot {
    std::string key;
    std::shared_ptr<const Entry> entry;
    std::size_t bytes = 0;
  };
  void drop(std::list<Slot>::iterator it);

  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::list<Slot> order_;  // most recently used first
  std::unordered_map<std::string, std::list<Slot>::iterator> index_;
  std::size_t bytes_ = 0;
  uint64_t evictions_ = 0;
};

}  // namespace hydra::memory
