#include "memory/sqlite_tier.hpp"

#include "common/thread_name.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <cstring>
#include <future>
#include <spdlog/spdlog.h>

namespace hydra::memory {

namespace asio = http::asio;

struct SqliteTier::Db {
  SQLite::Database db;
  std::size_t max_bytes;
  bool failing = false;  // logged once until the disk works again

  Db(const std::string& path, std::size_t max)
      : db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE), max_bytes(max) {
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec(
        "CREATE TABLE IF NOT EXISTS cache_entries (key TEXT PRIMARY KEY, model TEXT NOT NULL, "
        "value BLOB NOT NULL, bytes INTEGER NOT NULL, expires INTEGER NOT NULL, used INTEGER NOT NULL)");
    db.exec("CREATE INDEX IF NOT EXISTS cache_entries_used ON cache_entries(used)");
    db.exec(
        "CREATE TABLE IF NOT EXISTS cache_vectors (key TEXT PRIMARY KEY, scope TEXT NOT NULL, model TEXT NOT NULL, "
        "vector BLOB NOT NULL)");
  }

  void failed(const char* what, const std::exception& e) {
    if (!failing) spdlog::warn("cache: the SQLite tier could not {}: {} (it answers \"miss\" meanwhile)", what, e.what());
    failing = true;
  }
  void worked() {
    if (failing) spdlog::info("cache: the SQLite tier works again");
    failing = false;
  }

  void totals(uint64_t& entries, uint64_t& bytes) {
    SQLite::Statement q(db, "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM cache_entries");
    if (q.executeStep()) {
      entries = static_cast<uint64_t>(q.getColumn(0).getInt64());
      bytes = static_cast<uint64_t>(q.getColumn(1).getInt64());
    }
  }
};

SqliteTier::SqliteTier(const std::string& path, std::size_t max_bytes)
    : db_(std::make_unique<Db>(path, max_bytes)), work_(asio::make_work_guard(ioc_)) {
  uint64_t entries = 0, bytes = 0;
  db_->totals(entries, bytes);
  entries_ = entries;
  bytes_ = bytes;
  thread_ = named_thread("hydra-sqlite", [this] { ioc_.run(); });
}

SqliteTier::~SqliteTier() {
  work_.reset();
  if (thread_.joinable()) thread_.join();
}

http::awaitable<std::shared_ptr<const Entry>> SqliteTier::get(std::string key, int64_t now_ms) {
  // A member coroutine, not a capturing lambda: g++ 12 frees a coroutine lambda's captures twice.
  co_return co_await asio::co_spawn(ioc_, read(std::move(key), now_ms), asio::use_awaitable);
}

http::awaitable<std::shared_ptr<const Entry>> SqliteTier::read(std::string key, int64_t now_ms) {
  try {
    SQLite::Statement q(db_->db, "SELECT value, expires FROM cache_entries WHERE key = ?");
    q.bind(1, key);
    if (!q.executeStep()) co_return nullptr;
    const int64_t expires = q.getColumn(1).getInt64();
    const auto blob = q.getColumn(0);
    auto entry = decode(std::string_view(static_cast<const char*>(blob.getBlob()), blob.getBytes()));
    q.reset();
    if (!entry || (expires != 0 && expires <= now_ms)) {
      SQLite::Statement del(db_->db, "DELETE FROM cache_entries WHERE key = ?");
      del.bind(1, key);
      del.exec();
      recount();
      co_return nullptr;
    }
    SQLite::Statement touch(db_->db, "UPDATE cache_entries SET used = ? WHERE key = ?");
    touch.bind(1, now_ms);
    touch.bind(2, key);
    touch.exec();
    db_->worked();
    co_return std::make_shared<const Entry>(std::move(*entry));
  } catch (const std::exception& e) {
    db_->failed("read", e);
    co_return nullptr;
  }
}

void SqliteTier::recount() {
  uint64_t entries = 0, bytes = 0;
  db_->totals(entries, bytes);
  entries_ = entries;
  bytes_ = bytes;
}

void SqliteTier::put(std::string key, std::shared_ptr<const Entry> entry) {
  asio::post(ioc_, [this, key = std::move(key), entry = std::move(entry)] {
    try {
      const std::string value = encode(*entry);
      if (value.size() > db_->max_bytes) return;
      SQLite::Statement q(db_->db,
                          "INSERT OR REPLACE INTO cache_entries (key, model, value, bytes, expires, used) "
                          "VALUES (?, ?, ?, ?, ?, ?)");
      q.bind(1, key);
      q.bind(2, entry->model);
      q.bind(3, value.data(), static_cast<int>(value.size()));
      q.bind(4, static_cast<int64_t>(value.size()));
      q.bind(5, entry->expires_unix_ms);
      // Used now (an entry copied down from Redis may have been made long ago).
      q.bind(6, static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count()));
      q.exec();
      uint64_t entries = 0, bytes = 0;
      db_->totals(entries, bytes);
      // Over budget: the least recently used go, just enough of them (the index on `used` lets
      // the scan stop early).
      if (bytes > db_->max_bytes) {
        std::vector<std::string> victims;
        uint64_t freed = 0;
        SQLite::Statement old(db_->db,
                              "SELECT key, bytes FROM cache_entries ORDER BY used ASC");
        while (bytes - freed > db_->max_bytes && old.executeStep()) {
          victims.push_back(old.getColumn(0).getString());
          freed += static_cast<uint64_t>(old.getColumn(1).getInt64());
        }
        old.reset();
        SQLite::Transaction batch(db_->db);
        SQLite::Statement del(db_->db, "DELETE FROM cache_entries WHERE key = ?");
        for (const auto& victim : victims) {
          del.bind(1, victim);
          del.exec();
          del.reset();
        }
        batch.commit();
        evictions_ += victims.size();
        db_->totals(entries, bytes);
      }
      entries_ = entries;
      bytes_ = bytes;
      db_->worked();
    } catch (const std::exception& e) {
      db_->failed("write", e);
    }
  });
}

http::awaitable<std::size_t> SqliteTier::erase(std::string model) {
  co_return co_await asio::co_spawn(ioc_, remove(std::move(model)), asio::use_awaitable);
}

http::awaitable<std::size_t> SqliteTier::remove(std::string model) {
  try {
    SQLite::Statement q(db_->db, model.empty() ? "DELETE FROM cache_entries" : "DELETE FROM cache_entries WHERE model = ?");
    if (!model.empty()) q.bind(1, model);
    const int n = q.exec();
    SQLite::Statement v(db_->db, model.empty() ? "DELETE FROM cache_vectors" : "DELETE FROM cache_vectors WHERE model = ?");
    if (!model.empty()) v.bind(1, model);
    v.exec();
    recount();
    co_return static_cast<std::size_t>(n);
  } catch (const std::exception& e) {
    db_->failed("delete", e);
    co_return 0;
  }
}

TierStats SqliteTier::stats() const { return {entries_.load(), bytes_.load(), evictions_.load()}; }

void SqliteTier::put_vector(StoredVector v) {
  asio::post(ioc_, [this, v = std::move(v)] {
    try {
      SQLite::Statement q(db_->db, "INSERT OR REPLACE INTO cache_vectors (key, scope, model, vector) VALUES (?, ?, ?, ?)");
      q.bind(1, v.key);
      q.bind(2, v.scope);
      q.bind(3, v.model);
      q.bind(4, v.vector.data(), static_cast<int>(v.vector.size() * sizeof(float)));
      q.exec();
    } catch (const std::exception& e) {
      db_->failed("write", e);
    }
  });
}

std::vector<SqliteTier::StoredVector> SqliteTier::read_vectors() {
  std::promise<std::vector<StoredVector>> done;
  asio::post(ioc_, [this, &done] {
    std::vector<StoredVector> out;
    try {
      SQLite::Statement q(db_->db, "SELECT key, scope, model, vector FROM cache_vectors");
      while (q.executeStep()) {
        StoredVector v{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString(), {}};
        const auto blob = q.getColumn(3);
        v.vector.resize(static_cast<std::size_t>(blob.getBytes()) / sizeof(float));
        std::memcpy(v.vector.data(), blob.getBlob(), v.vector.size() * sizeof(float));
        out.push_back(std::move(v));
      }
    } catch (const std::exception& e) {
      db_->failed("read", e);
    }
    done.set_value(std::move(out));
  });
  return done.get_future().get();
}

void SqliteTier::flush() {
  std::promise<void> done;
  asio::post(ioc_, [&done] { done.set_value(); });
  done.get_future().wait();
}

}  // namespace hydra::memory
