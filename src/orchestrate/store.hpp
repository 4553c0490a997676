#pragma once
// RunStore: orchestration runs persisted in SQLite (table `orchestrate_runs` in the gateway's
// database file, e.g. <data_dir>/hydra.db), so GET /orchestrate/{id} answers for running and
// finished runs and across restarts. Owned by the gateway; the orchestrator holds a pointer
// (nullptr = runs are not persisted). Thread-safe (one mutex). Writes are small and the journal
// is WAL with synchronous=NORMAL, so a save costs no fsync on the caller's thread.
#include "orchestrate/run.hpp"

#include <boost/json/object.hpp>
#include <memory>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace hydra::orchestrate {

class RunStore {
public:
  // Opens (creating the file and its directory if needed) the database at `path`. Throws
  // std::runtime_error when it cannot (a start-up error). Runs a previous process left
  // "running" are marked failed ("interrupted"): nothing will finish them.
  explicit RunStore(const std::string& path);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  // Inserts or replaces the run. Returns an error sentence, or nullopt on success.
  std::optional<std::string> save(const Run& run);
  // The run's JSON (run.hpp to_json shape), or nullopt when unknown or unreadable.
  std::optional<boost::json::object> load(const std::string& task_id);
  // Up to n runs, newest first (by created_at).
  // The newest `n` runs; with `owner`, only the runs that key started.
  std::vector<boost::json::object> recent(int n, std::optional<std::string> owner = std::nullopt);
  // The last error a load/recent swallowed ("" if none), for logs.
  std::string last_error() const;
  // Told of every run saved (its id and JSON), after it is saved: several gateways keep runs in
  // Redis too, so any of them answers for any run. Start-up only.
  using Mirror = std::function<void(const std::string& task_id, const std::string& json)>;
  void mirror(Mirror m) { mirror_ = std::move(m); }

private:
  void mark_interrupted();

  mutable std::mutex mu_;
  Mirror mirror_;
  std::unique_ptr<SQLite::Database> db_;
  std::string last_error_;
};

}  // namespace hydra::orchestrate
