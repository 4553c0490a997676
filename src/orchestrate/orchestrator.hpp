#pragma once
// The orchestrator: analyse a task (light model: SIMPLE / MODERATE / COMPLEX), decompose it
// into sub-tasks (light model for MODERATE, heavy for COMPLEX), run them as a DAG across the
// fleet (sub-tasks whose dependencies are done run at the same time; fan-out to several models
// per sub-task), and synthesise one answer with the heavy model, streamed as events.
//
// SIMPLE tasks take one call to the heavy model (the answer is final, so the strongest model
// writes it; no fan-out); the run still has one sub-task, and the call's pieces stream as
// `synthesis`.
//
// Failures: an unreadable or failed analysis counts as MODERATE; a failed or unusable
// decomposition makes the task itself the one sub-task; a failed sub-task (after one retry
// on another node) is recorded and its dependents and the synthesis still run. The run fails
// only when no model is available, the task is blank, every sub-task failed, the synthesis
// call failed, or (SIMPLE) the one call failed. Outputs and `synthesized` have <think> blocks
// removed; streamed pieces are passed on as they come.
//
// A request's `models` replace the role models for sub-tasks (light and heavy stay as
// configured): sub-task i (plan order, from 0) asks min(fanout, M) of the M listed models,
// round-robin from models[i % M]; a SIMPLE task asks models[0]. A listed model no node has is
// replaced by the closest available one, recorded in role_fallbacks with role "request".
//
// The Orchestrator is owned by the gateway and must outlive every run it started. Each run
// works on its own strand of the executor, so a run's record and events are touched by one
// coroutine at a time even on a multi-threaded io_context.
#include "orchestrate/caller.hpp"
#include "orchestrate/cancel.hpp"
#include "orchestrate/events.hpp"
#include "orchestrate/run.hpp"
#include "orchestrate/settings.hpp"
#include "orchestrate/store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hydra::orchestrate {

struct TaskRequest {
  std::string task;
  std::vector<std::string> models;   // optional: models for sub-tasks instead of the roles'
  std::optional<int> max_subtasks;   // else Settings::max_subtasks (clamped 1..kMaxSubtasks)
  std::optional<int> fanout;         // else Settings::fanout (clamped 1..kMaxFanout)
  std::optional<int> priority;       // else Settings::priority (clamped 1..10)
  std::string task_id;               // empty: a fresh random id (new_task_id)
  std::string owner;                 // the API key's name that started it ("" = no keys)
  // Set to cancel the run (its client left): calls under way end, no new step starts, and the
  // run ends failed with error "cancelled: ...". Null: the run always goes to its end.
  std::shared_ptr<Cancel> cancel;
};

// One of the Settings::max_runs places for a run at once; given back when destroyed.
class RunPermit {
public:
  explicit RunPermit(int& running) : running_(&running) { ++*running_; }
  RunPermit(RunPermit&& other) noexcept : running_(std::exchange(other.running_, nullptr)) {}
  RunPermit& operator=(RunPermit&&) = delete;
  ~RunPermit() {
    if (running_) --*running_;
  }

private:
  int* running_;
};

class Orchestrator {
public:
  Orchestrator(boost::asio::any_io_executor executor, ModelCaller& caller, Settings settings,
               RunStore* store = nullptr);

  // Runs one task to the end and returns its record (status done or failed; failures are in
  // the record, never thrown). Events go to `on_event` (events.hpp), ending with `done`.
  // The run is saved when it starts, after planning, after each sub-task and at the end.
  boost::asio::awaitable<Run> run(TaskRequest request, EventFn on_event = {});

  // A place for one more run, or nullopt when max_runs hold a permit already. The API takes
  // one before run() and keeps it until the run ends. Call from the gateway's thread only.
  std::optional<RunPermit> try_admit();
  int running() const { return running_; }

  const Settings& settings() const { return settings_; }

private:
  boost::asio::awaitable<Run> run_on_strand(TaskRequest request, EventFn on_event);

  boost::asio::any_io_executor executor_;
  ModelCaller& caller_;
  Settings settings_;
  RunStore* store_;
  int running_ = 0;  // permits out
};

}  // namespace hydra::orchestrate
