#include "orchestrate/orchestrator.hpp"

#include "common/clock.hpp"
#include "common/timefmt.hpp"
#include "orchestrate/context.hpp"
#include "orchestrate/execute.hpp"
#include "orchestrate/roles.hpp"
#include "orchestrate/steps.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace hydra::orchestrate {

namespace asio = boost::asio;

void RunContext::persist() const {
  if (!store) return;
  if (auto err = store->save(run)) spdlog::warn("orchestrate: {}", *err);
}

namespace {

// The limits of one run: the request's where it gave them, else the settings', clamped.
struct Limits {
  int max_subtasks;
  int fanout;
  int priority;
};

Limits limits_for(const Settings& s, const TaskRequest& r) {
  Limits l;
  l.max_subtasks = std::clamp(r.max_subtasks.value_or(s.max_subtasks), 1, kMaxSubtasks);
  l.fanout = std::clamp(r.fanout.value_or(s.fanout), 1, kMaxFanout);
  l.priority = std::clamp(r.priority.value_or(s.priority), 1, 10);
  return l;
}

Run start_run(const TaskRequest& request) {
  Run run;
  run.task_id = request.task_id.empty() ? new_task_id() : request.task_id;
  run.task = request.task;
  run.owner = request.owner;
  run.status = RunStatus::running;
  run.created_at = rfc3339(SystemClock::instance().wall());
  return run;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

Role role_for(ModelType t) {
  switch (t) {
    case ModelType::code: return Role::code;
    case ModelType::reasoning: return Role::reasoning;
    case ModelType::general: return Role::general;
  }
  return Role::general;
}

// Which models each sub-task asks: the request's list when it gave one, else its role's.
struct ModelChoice {
  const Settings& settings;
  const RoleModels& roles;
  std::vector<std::string> request_models;
  std::vector<std::string> available;
  int fanout;

  std::vector<std::string> for_subtask(std::size_t index, ModelType type) const {
    if (!request_models.empty()) return rotate_models(request_models, index, fanout);
    return fanout_models(settings, roles, role_for(type), fanout, available);
  }
};

ModelChoice make_choice(const Settings& s, const RoleModels& roles, std::vector<std::string> request_models,
                        std::vector<std::string> available, int fanout) {
  return ModelChoice{s, roles, std::move(request_models), std::move(available), fanout};
}

void adopt_plan(Run& run, const Plan& plan, const ModelChoice& choice) {
  for (const auto& note : plan.notes) spdlog::debug("orchestrate {}: plan: {}", run.task_id, note);
  run.subtasks.clear();
  for (std::size_t i = 0; i < plan.subtasks.size(); ++i) {
    const SubtaskSpec& spec = plan.subtasks[i];
    SubtaskRecord st;
    st.id = spec.id;
    st.description = spec.description;
    st.model_type = spec.model_type;
    st.dependencies = spec.dependencies;
    st.models = choice.for_subtask(i, spec.model_type);
    if (!st.models.empty()) st.model = st.models.front();
    run.subtasks.push_back(std::move(st));
  }
}

// After each step: a cancelled run stops there, failed with the reason (whatever error the
// cancellation caused in the step is replaced by it). True = stop.
bool stop_if_cancelled(RunContext& ctx) {
  if (!ctx.cancelled()) return false;
  ctx.run.status = RunStatus::failed;
  ctx.run.error = "cancelled: the client left before the run finished";
  return true;
}

}  // namespace

std::optional<RunPermit> Orchestrator::try_admit() {
  if (running_ >= std::max(settings_.max_runs, 1)) return std::nullopt;
  return RunPermit(running_);
}

Orchestrator::Orchestrator(asio::any_io_executor executor, ModelCaller& caller, Settings settings, RunStore* store)
    : executor_(std::move(executor)), caller_(caller), settings_(std::move(settings)), store_(store) {}

asio::awaitable<Run> Orchestrator::run(TaskRequest request, EventFn on_event) {
  auto strand = asio::make_strand(executor_);
  auto work = run_on_strand(std::move(request), std::move(on_event));
  Run result = co_await asio::co_spawn(strand, std::move(work), asio::use_awaitable);
  co_return result;
}

asio::awaitable<Run> Orchestrator::run_on_strand(TaskRequest request, EventFn on_event) {
  const auto started = std::chrono::steady_clock::now();
  const Limits limits = limits_for(settings_, request);
  RunContext ctx(caller_, std::move(on_event), store_);
  ctx.priority = limits.priority;
  ctx.cancel = request.cancel;
  ctx.run = start_run(request);

  std::vector<std::string> available = caller_.available_models();
  RoleModels roles = resolve_roles(settings_, available);
  if (blank(request.task)) fail_run(ctx.run, "task is required");
  else if (!roles.error.empty()) fail_run(ctx.run, roles.error);
  ctx.run.role_fallbacks = roles.fallbacks;

  if (ctx.run.status != RunStatus::failed) {
    std::vector<std::string> request_models =
        resolve_request_models(request.models, available, ctx.run.role_fallbacks);
    ctx.persist();

    auto step = std::chrono::steady_clock::now();
    Complexity complexity = co_await analyse(ctx, roles.of(Role::light));
    ctx.run.complexity = complexity;
    ctx.run.timings.analyse_ms = ms_since(step);
    ctx.emit("analysed", analysed_event(ctx.run));
    ctx.persist();  // GET /orchestrate/{id} shows each step as the stream tells it

    if (stop_if_cancelled(ctx)) {
      // nothing more to do
    } else if (complexity == Complexity::simple) {
      std::string model = roles.of(Role::heavy);
      if (!request_models.empty()) model = request_models.front();
      step = std::chrono::steady_clock::now();
      co_await answer_simple(ctx, std::move(model));
      ctx.run.timings.execute_ms = ms_since(step);
      stop_if_cancelled(ctx);
    } else {
      Role planner = Role::light;
      if (complexity == Complexity::complex) planner = Role::heavy;
      step = std::chrono::steady_clock::now();
      Plan plan = co_await decompose(ctx, roles.of(planner), limits.max_subtasks);
      ctx.run.timings.decompose_ms = ms_since(step);
      // Cancelled meanwhile: the call's failure made a stand-in plan, which is not recorded.
      const bool planned = !stop_if_cancelled(ctx);
      if (planned) {
        ModelChoice choice = make_choice(settings_, roles, std::move(request_models), available, limits.fanout);
        adopt_plan(ctx.run, plan, choice);
        ctx.emit("planned", planned_event(ctx.run));
        ctx.persist();
      }

      if (planned && !stop_if_cancelled(ctx)) {
        step = std::chrono::steady_clock::now();
        co_await execute_plan(ctx);
        ctx.run.timings.execute_ms = ms_since(step);
      }
      if (planned && !stop_if_cancelled(ctx)) {
        step = std::chrono::steady_clock::now();
        co_await synthesise(ctx, roles.of(Role::heavy));
        ctx.run.timings.synthesise_ms = ms_since(step);
        stop_if_cancelled(ctx);
      }
    }
  }

  if (ctx.run.status != RunStatus::failed) ctx.run.status = RunStatus::done;
  ctx.run.timings.total_ms = ms_since(started);
  ctx.persist();
  ctx.emit("done", to_json(ctx.run));
  co_return std::move(ctx.run);
}

}  // namespace hydra::orchestrate
