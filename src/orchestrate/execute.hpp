#pragma once
// Running a plan as a DAG: every sub-task whose dependencies have finished runs at once, each
// on its own coroutine, fanned out to its models. A failed sub-task does not stop the run;
// its dependents still run and their prompts say it failed.
#include "orchestrate/context.hpp"
#include "orchestrate/prompts.hpp"

#include <boost/asio/awaitable.hpp>

namespace hydra::orchestrate {

// Runs ctx.run.subtasks (dependencies already a DAG, `models` set) to completion, filling
// each record and emitting subtask_started / subtask_finished; saves the run after each
// sub-task. Must be awaited on the run's strand.
boost::asio::awaitable<void> execute_plan(RunContext& ctx);

// The prompt of sub-task i: its description and its dependencies' outputs (or errors).
std::string prompt_for(const Run& run, std::size_t i);

// Fills a sub-task's outcome from its models' results: done if any answered (output =
// labelled_output, node_id = the first that answered), else failed with every error.
void finish_subtask(SubtaskRecord& st, std::vector<ModelResult> results, int64_t duration_ms);

// What the synthesis sees of each sub-task.
std::vector<SubtaskOutcome> outcomes_of(const Run& run);

}  // namespace hydra::orchestrate
