#pragma once
// A shared_ptr that one thread replaces while others read it: the published fleet snapshot, the
// API key set. store() swaps it in under a mutex and drops the old one outside the lock.
// load() is on every request's path, on every serving thread: each thread keeps its own
// reference to the current value, behind a reference count of its own (an aliasing shared_ptr),
// and takes the mutex only when the value changed since it last looked (a version, written by
// store() alone). So threads reading the same value do not pass the mutex's and the count's
// cache lines back and forth between their cores on every read.
// Not std::atomic<std::shared_ptr>: libstdc++ 12 releases its internal lock with a relaxed
// store after load(), so the read of the pointer is not ordered before the next writer's
// swap (ThreadSanitizer reports it; on weakly ordered CPUs it is a real race).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace hydra {

namespace detail {
inline std::atomic<uint64_t> shared_value_ids{0};
}  // namespace detail

template <class T>
class SharedValue {
public:
  SharedValue() = default;
  explicit SharedValue(std::shared_ptr<T> value) : value_(std::move(value)) {}
  SharedValue(const SharedValue&) = delete;
  SharedValue& operator=(const SharedValue&) = delete;

  std::shared_ptr<T> load() const {
    // One cached value per thread and T: a thread that reads two SharedValues of one T in turn
    // (tests' in-process gateways) takes the mutex each time, and is right.
    thread_local Cached cached;
    const uint64_t version = version_.load(std::memory_order_acquire);
    if (cached.id != id_ || cached.version != version) {
      std::shared_ptr<T> current;
      {
        std::lock_guard lock(mutex_);
        current = value_;
        cached.version = version_.load(std::memory_order_relaxed);  // the one `current` is
      }
      cached.id = id_;
      if (!current) {
        cached.value = nullptr;
      } else {
        auto holder = std::make_shared<std::shared_ptr<T>>(std::move(current));
        cached.value = std::shared_ptr<T>(holder, holder->get());
      }
    }
    return cached.value;
  }
  void store(std::shared_ptr<T> value) {
    {
      std::lock_guard lock(mutex_);
      value_.swap(value);
      version_.fetch_add(1, std::memory_order_release);
    }
    // `value` now holds the old one, released here, outside the lock.
  }

private:
  struct Cached {
    uint64_t id = 0;  // whose (ids start at 1: never an address, which a later one may reuse)
    uint64_t version = 0;
    std::shared_ptr<T> value;
  };
  const uint64_t id_ = detail::shared_value_ids.fetch_add(1, std::memory_order_relaxed) + 1;
  mutable std::mutex mutex_;
  std::shared_ptr<T> value_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace hydra
