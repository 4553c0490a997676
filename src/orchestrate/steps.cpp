#include "orchestrate/steps.hpp"

#include "orchestrate/call.hpp"
#include "orchestrate/complexity.hpp"
#include "orchestrate/execute.hpp"
#include "orchestrate/prompts.hpp"

#include <memory>

namespace hydra::orchestrate {

namespace asio = boost::asio;

namespace {

// Requests are built in plain functions: coroutine bodies avoid braces and lambdas (g++ 12).
CallRequest plain_request(const RunContext& ctx, std::string model, std::string prompt) {
  CallRequest r;
  r.model = std::move(model);
  r.prompt = std::move(prompt);
  r.priority = ctx.priority;
  r.cancel = ctx.cancel;
  r.request_id = ctx.run.task_id;
  return r;
}

// What a streamed answer has shown so far: whether any piece came, and its <think> filter.
struct Streamed {
  bool any = false;
  ThinkFilter thinking;
};

// Each streamed piece becomes a `synthesis` event, <think> blocks left out as in the result.
CallRequest streaming_request(RunContext& ctx, std::string model, std::string prompt,
                              std::shared_ptr<Streamed> streamed) {
  CallRequest r = plain_request(ctx, std::move(model), std::move(prompt));
  RunContext* c = &ctx;
  r.on_piece = [c, streamed = std::move(streamed)](std::string_view piece) {
    streamed->any = true;
    std::string shown = streamed->thinking.feed(piece);
    if (!shown.empty()) c->emit("synthesis", synthesis_event(shown));
  };
  return r;
}

// After the call: the rest of a streamed answer, or the whole answer when nothing streamed.
void finish_stream(RunContext& ctx, Streamed& streamed, const std::string& whole) {
  std::string rest = streamed.any ? streamed.thinking.finish() : whole;
  if (!rest.empty() || !streamed.any) ctx.emit("synthesis", synthesis_event(rest));
}

SubtaskRecord simple_record(const std::string& task, const std::string& model) {
  SubtaskRecord st;
  st.id = "1";
  st.description = task;
  st.model_type = ModelType::general;
  st.model = model;
  st.models.push_back(model);
  return st;
}

Plan failed_decomposition(const std::string& task, const std::string& error) {
  Plan plan = single_subtask_plan(task);
  plan.notes.push_back("decomposition call failed (" + error + "): the task is one sub-task");
  return plan;
}

bool any_done(const Run& run) {
  for (const auto& st : run.subtasks)
    if (st.status == SubtaskStatus::done) return true;
  return false;
}

}  // namespace

void fail_run(Run& run, std::string error) {
  run.status = RunStatus::failed;
  if (run.error.empty()) run.error = std::move(error);
}

asio::awaitable<Complexity> analyse(RunContext& ctx, std::string model) {
  CallRequest request = plain_request(ctx, std::move(model), analyse_prompt(ctx.run.task));
  CallResult r = co_await call_with_retry(ctx.caller, std::move(request));
  Complexity c = Complexity::moderate;
  if (r.ok) c = parse_complexity(r.text);
  co_return c;
}

asio::awaitable<Plan> decompose(RunContext& ctx, std::string model, int max_subtasks) {
  CallRequest request = plain_request(ctx, std::move(model), decompose_prompt(ctx.run.task, max_subtasks));
  CallResult r = co_await call_with_retry(ctx.caller, std::move(request));
  if (!r.ok) co_return failed_decomposition(ctx.run.task, r.error);
  co_return parse_plan(r.text, ctx.run.task, max_subtasks);
}

asio::awaitable<void> answer_simple(RunContext& ctx, std::string model) {
  ctx.run.subtasks.clear();
  ctx.run.subtasks.push_back(simple_record(ctx.run.task, model));
  ctx.emit("planned", planned_event(ctx.run));
  ctx.persist();
  SubtaskRecord& st = ctx.run.subtasks.front();
  st.status = SubtaskStatus::running;
  ctx.emit("subtask_started", subtask_started_event(st));
  ctx.persist();
  auto streamed = std::make_shared<Streamed>();
  CallRequest request = streaming_request(ctx, model, simple_prompt(ctx.run.task), streamed);
  auto started = std::chrono::steady_clock::now();
  CallResult r = co_await call_with_retry(ctx.caller, std::move(request));
  std::vector<ModelResult> results;
  results.push_back(model_result(model, std::move(r)));
  finish_subtask(st, std::move(results), ms_since(started));
  ctx.emit("subtask_finished", subtask_finished_event(st));
  if (st.status != SubtaskStatus::done) {
    fail_run(ctx.run, "the model call failed: " + st.error);
    co_return;
  }
  ctx.run.synthesized = st.output;
  finish_stream(ctx, *streamed, ctx.run.synthesized);
}

asio::awaitable<void> synthesise(RunContext& ctx, std::string model) {
  if (!any_done(ctx.run)) {
    fail_run(ctx.run, "every sub-task failed; there is nothing to synthesise");
    co_return;
  }
  auto streamed = std::make_shared<Streamed>();
  std::string prompt = synthesis_prompt(ctx.run.task, outcomes_of(ctx.run));
  CallRequest request = streaming_request(ctx, std::move(model), std::move(prompt), streamed);
  CallResult r = co_await call_with_retry(ctx.caller, std::move(request));
  if (!r.ok) {
    fail_run(ctx.run, "synthesis failed: " + r.error);
    co_return;
  }
  ctx.run.synthesized = strip_thinking(r.text);
  finish_stream(ctx, *streamed, ctx.run.synthesized);
}

}  // namespace hydra::orchestrate
