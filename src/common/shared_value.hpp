#pragma once
// A shared_ptr that one thread replaces while others read it: the published fleet snapshot, the
// API key set. load() copies the pointer under a mutex held for that copy only (a reference
// count increment); store() swaps it in and drops the old one outside the lock.
// Not std::atomic<std::shared_ptr>: libstdc++ 12 releases its internal lock with a relaxed
// store after load(), so the read of the pointer is not ordered before the next writer's
// swap (ThreadSanitizer reports it; on weakly ordered CPUs it is a real race).
#include <memory>
#include <mutex>

namespace hydra {

template <class T>
class SharedValue {
public:
  SharedValue() = default;
  explicit SharedValue(std::shared_ptr<T> value) : value_(std::move(value)) {}
  SharedValue(const SharedValue&) = delete;
  SharedValue& operator=(const SharedValue&) = delete;

  std::shared_ptr<T> load() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  void store(std::shared_ptr<T> value) {
    {
      std::lock_guard lock(mutex_);
      value_.swap(value);
    }
    // `value` now holds the old one, released here, outside the lock.
  }

private:
  mutable std::mutex mutex_;
  std::shared_ptr<T> value_;
};

}  // namespace hydra
