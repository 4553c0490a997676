#include "orchestrate/execute.hpp"

#include "orchestrate/call.hpp"
#include "orchestrate/dag.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace hydra::orchestrate {

namespace asio = boost::asio;

namespace {

// "This sub-task has finished": a timer that never expires, cancelled to wake its waiters.
// Touched from the run's strand only, so the flag needs no lock.
class DoneSignal {
public:
  explicit DoneSignal(asio::any_io_executor ex) : timer_(ex, asio::steady_timer::time_point::max()) {}
  void set() {
    done_ = true;
    timer_.cancel();
  }
  asio::awaitable<void> wait() {
    if (done_) co_return;
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }

private:
  asio::steady_timer timer_;
  bool done_ = false;
};

using Signals = std::vector<std::unique_ptr<DoneSignal>>;
using Deps = std::vector<std::vector<std::size_t>>;

asio::awaitable<void> run_body(RunContext& ctx, std::size_t i) {
  SubtaskRecord& st = ctx.run.subtasks[i];  // the vector is not resized while sub-tasks run
  st.status = SubtaskStatus::running;
  ctx.emit("subtask_started", subtask_started_event(st));
  ctx.persist();
  std::string prompt = prompt_for(ctx.run, i);
  auto started = std::chrono::steady_clock::now();
  std::vector<ModelResult> results =
      co_await call_models(ctx.caller, st.models, std::move(prompt), ctx.priority, ctx.cancel, ctx.run.task_id);
  finish_subtask(st, std::move(results), ms_since(started));
}

void mark_crashed(SubtaskRecord& st) {
  st.status = SubtaskStatus::failed;
  st.error = "internal error while running the sub-task";
}

// Waits for the sub-task's dependencies, runs it, and always signals its end, so that a
// dependent never waits forever (even if the body threw).
asio::awaitable<void> run_subtask(RunContext& ctx, Signals& signals, const Deps& deps, std::size_t i) {
  for (std::size_t d : deps[i]) co_await signals[d]->wait();
  bool crashed = false;
  try {
    co_await run_body(ctx, i);
  } catch (...) {
    crashed = true;
  }
  if (crashed) mark_crashed(ctx.run.subtasks[i]);
  ctx.emit("subtask_finished", subtask_finished_event(ctx.run.subtasks[i]));
  ctx.persist();
  signals[i]->set();
}

}  // namespace

std::string prompt_for(const Run& run, std::size_t i) {
  const SubtaskRecord& st = run.subtasks[i];
  std::vector<DependencyResult> deps;
  for (const auto& id : st.dependencies) {
    for (const auto& other : run.subtasks) {
      if (other.id != id) continue;
      DependencyResult d;
      d.id = other.id;
      d.description = other.description;
      d.ok = other.status == SubtaskStatus::done;
      if (d.ok) d.output = other.output;
      else d.error = other.error.empty() ? "it did not finish" : other.error;
      deps.push_back(std::move(d));
    }
  }
  return subtask_prompt(run.task, st.description, deps);
}

void finish_subtask(SubtaskRecord& st, std::vector<ModelResult> results, int64_t duration_ms) {
  st.duration_ms = duration_ms;
  st.results = std::move(results);
  st.node_id.clear();
  std::string errors;
  for (const auto& r : st.results) {
    if (r.ok && st.node_id.empty()) st.node_id = r.node_id;
    if (!r.ok) errors += (errors.empty() ? "" : "; ") + r.model + ": " + r.error;
  }
  bool any_ok = std::any_of(st.results.begin(), st.results.end(), [](const ModelResult& r) { return r.ok; });
  if (any_ok) {
    st.status = SubtaskStatus::done;
    st.output = labelled_output(st.results);
    st.error.clear();
  } else {
    st.status = SubtaskStatus::failed;
    st.error = st.results.empty() ? "no model to ask" : errors;
    if (st.results.size() == 1) st.error = st.results.front().error;
  }
}

std::vector<SubtaskOutcome> outcomes_of(const Run& run) {
  std::vector<SubtaskOutcome> out;
  for (const auto& st : run.subtasks) {
    SubtaskOutcome o;
    o.id = st.id;
    o.description = st.description;
    o.ok = st.status == SubtaskStatus::done;
    o.output = st.output;
    o.error = st.error;
    out.push_back(std::move(o));
  }
  return out;
}

asio::awaitable<void> execute_plan(RunContext& ctx) {
  const std::size_t n = ctx.run.subtasks.size();
  if (n == 0) co_return;
  std::vector<SubtaskSpec> specs(n);
  for (std::size_t i = 0; i < n; ++i) {
    specs[i].id = ctx.run.subtasks[i].id;
    specs[i].dependencies = ctx.run.subtasks[i].dependencies;
  }
  // Plans from parse_plan are DAGs already; this guards hand-made ones, since a cycle here
  // would leave its sub-tasks waiting on each other forever.
  std::vector<std::string> notes;
  clean_dependencies(specs, notes);
  break_cycles(specs, notes);
  for (std::size_t i = 0; i < n; ++i) ctx.run.subtasks[i].dependencies = specs[i].dependencies;
  const Deps deps = dependency_indices(specs);
  auto ex = co_await asio::this_coro::executor;
  Signals signals;
  for (std::size_t i = 0; i < n; ++i) signals.push_back(std::make_unique<DoneSignal>(ex));
  using Op = decltype(asio::co_spawn(ex, run_subtask(ctx, signals, deps, 0), asio::deferred));
  std::vector<Op> ops;
  for (std::size_t i = 0; i < n; ++i) ops.push_back(asio::co_spawn(ex, run_subtask(ctx, signals, deps, i), asio::deferred));
  co_await asio::experimental::make_parallel_group(std::move(ops))
      .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
}

}  // namespace hydra::orchestrate
