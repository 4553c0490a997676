#include "orchestrate/store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <stdexcept>

namespace hydra::orchestrate {

namespace json = boost::json;

namespace {
std::optional<json::object> parse_object(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}
}  // namespace

RunStore::RunStore(const std::string& path) {
  std::filesystem::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) throw std::runtime_error(fmt::format("cannot create {}: {}", p.parent_path().string(), ec.message()));
  }
  try {
    db_ = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db_->setBusyTimeout(2000);
    db_->exec("PRAGMA journal_mode=WAL");
    db_->exec("PRAGMA synchronous=NORMAL");
    db_->exec(
        "CREATE TABLE IF NOT EXISTS orchestrate_runs ("
        " task_id TEXT PRIMARY KEY,"
        " created_at TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " task TEXT NOT NULL,"
        " run_json TEXT NOT NULL)");
    db_->exec("CREATE INDEX IF NOT EXISTS orchestrate_runs_created ON orchestrate_runs(created_at)");
    mark_interrupted();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("cannot open the run store {}: {}", path, e.what()));
  }
}

RunStore::~RunStore() = default;

void RunStore::mark_interrupted() {
  SQLite::Statement q(*db_, "SELECT task_id, run_json FROM orchestrate_runs WHERE status = 'running'");
  std::vector<std::pair<std::string, std::string>> fixed;
  while (q.executeStep()) {
    auto run = parse_object(q.getColumn(1).getString());
    if (!run) continue;
    (*run)["status"] = "failed";
    (*run)["error"] = "interrupted: the gateway stopped before the run finished";
    fixed.emplace_back(q.getColumn(0).getString(), json::serialize(*run));
  }
  for (const auto& [id, text] : fixed) {
    SQLite::Statement u(*db_, "UPDATE orchestrate_runs SET status = 'failed', run_json = ? WHERE task_id = ?");
    u.bind(1, text);
    u.bind(2, id);
    u.exec();
  }
}

std::optional<std::string> RunStore::save(const Run& run) {
  std::string text = json::serialize(to_json(run));
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement q(*db_,
                        "INSERT INTO orchestrate_runs (task_id, created_at, status, task, run_json)"
                        " VALUES (?, ?, ?, ?, ?)"
                        " ON CONFLICT(task_id) DO UPDATE SET status = excluded.status, run_json = excluded.run_json");
    q.bind(1, run.task_id);
    q.bind(2, run.created_at);
    q.bind(3, std::string(status_name(run.status)));
    q.bind(4, run.task);
    q.bind(5, text);
    q.exec();
    if (mirror_) mirror_(run.task_id, text);
    return std::nullopt;
  } catch (const std::exception& e) {
    return fmt::format("saving run {}: {}", run.task_id, e.what());
  }
}

std::optional<json::object> RunStore::load(const std::string& task_id) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement q(*db_, "SELECT run_json FROM orchestrate_runs WHERE task_id = ?");
    q.bind(1, task_id);
    if (!q.executeStep()) return std::nullopt;
    auto run = parse_object(q.getColumn(0).getString());
    if (!run) last_error_ = fmt::format("run {}: stored JSON is unreadable", task_id);
    return run;
  } catch (const std::exception& e) {
    last_error_ = fmt::format("loading run {}: {}", task_id, e.what());
    return std::nullopt;
  }
}

std::vector<json::object> RunStore::recent(int n, std::optional<std::string> owner) {
  std::vector<json::object> out;
  if (n <= 0) return out;
  std::lock_guard lock(mu_);
  try {
    // Runs saved before owners existed have none: they belong to no key (admin sees them).
    SQLite::Statement q(*db_,
                        "SELECT run_json FROM orchestrate_runs WHERE ?1 IS NULL OR "
                        "coalesce(json_extract(run_json, '$.owner'), '') = ?1 "
                        "ORDER BY created_at DESC, rowid DESC LIMIT ?2");
    if (owner) q.bind(1, *owner);
    else q.bind(1);
    q.bind(2, n);
    while (q.executeStep())
      if (auto run = parse_object(q.getColumn(0).getString())) out.push_back(std::move(*run));
  } catch (const std::exception& e) {
    last_error_ = fmt::format("listing runs: {}", e.what());
  }
  return out;
}

std::string RunStore::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace hydra::orchestrate
