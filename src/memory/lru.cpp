#include "memory/lru.hpp"

namespace hydra::memory {

void LruTier::drop(std::list<Slot>::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->key);
  order_.erase(it);
}

std::shared_ptr<const Entry> LruTier::get(const std::string& key, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto found = index_.find(key);
  if (found == index_.end()) return nullptr;
  auto it = found->second;
  if (it->entry->expires_unix_ms != 0 && it->entry->expires_unix_ms <= now_ms) {
    drop(it);
    return nullptr;
  }
  order_.splice(order_.begin(), order_, it);
  return it->entry;
}

void LruTier::put(const std::string& key, std::shared_ptr<const Entry> entry) {
  const std::size_t size = entry->bytes() + key.size();
  std::lock_guard lock(mutex_);
  if (auto found = index_.find(key); found != index_.end()) drop(found->second);
  if (size > max_bytes_) return;
  while (bytes_ + size > max_bytes_ && !order_.empty()) {
    drop(std::prev(order_.end()));
    ++evictions_;
  }
  order_.push_front(Slot{key, std::move(entry), size});
  index_[key] = order_.begin();
  bytes_ += size;
}

std::size_t LruTier::erase(const std::string& model) {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (auto it = order_.begin(); it != order_.end();) {
    auto next = std::next(it);
    if (model.empty() || it->entry->model == model) {
      drop(it);
      ++n;
    }
    it = next;
  }
  return n;
}

TierStats LruTier::stats() const {
  std::lock_guard lock(mutex_);
  return {index_.size(), bytes_, evictions_};
}

}  // namespace hydra::memory
