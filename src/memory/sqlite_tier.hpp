#pragma once
// The cache's second tier: entries in a SQLite file in the data dir (WAL), kept across
// restarts, bounded in bytes (cache.l2_mb, least recently used dropped first) and by their
// expiry. SQLite runs on this tier's own thread: callers post to it and resume on their own
// executor, so no request thread ever waits on the disk. A failing disk is logged and the
// tier answers "miss"; it never fails a request.
#include "http/types.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include "memory/lru.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace hydra::memory {

class SqliteTier {
public:
  // Opens or creates `path`; throws (at start-up) when it cannot.
  SqliteTier(const std::string& path, std::size_t max_bytes);
  ~SqliteTier();
  SqliteTier(const SqliteTier&) = delete;
  SqliteTier& operator=(const SqliteTier&) = delete;

  http::awaitable<std::shared_ptr<const Entry>> get(std::string key, int64_t now_ms);
  void put(std::string key, std::shared_ptr<const Entry> entry);  // queued; returns at once
  http::awaitable<std::size_t> erase(std::string model);           // "" = everything
  TierStats stats() const;
  // Waits until every put queued before it is written (tests, shutdown).
  void flush();

  // The semantic tier's vectors, kept beside the entries (purged with them by model).
  struct StoredVector {
    std::string key, scope, model;
    std::vector<float> vector;
  };
  void put_vector(StoredVector v);          // queued
  std::vector<StoredVector> read_vectors();  // waits: for start-up

private:
  // On the tier's thread:
  http::awaitable<std::shared_ptr<const Entry>> read(std::string key, int64_t now_ms);
  http::awaitable<std::size_t> remove(std::string model);
  void recount();

  struct Db;
  std::unique_ptr<Db> db_;  // touched on the tier's thread only
  http::asio::io_context ioc_;
  http::asio::executor_work_guard<http::asio::io_context::executor_type> work_;
  std::atomic<uint64_t> entries_{0}, bytes_{0}, evictions_{0};
  std::thread thread_;
};

}  // namespace hydra::memory
