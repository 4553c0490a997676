#pragma once
// The steps of a run other than the DAG (execute.hpp): analyse, decompose, the SIMPLE path,
// synthesise. Each is awaited on the run's strand and records what it did in ctx.run.
#include "orchestrate/context.hpp"
#include "orchestrate/plan.hpp"

#include <boost/asio/awaitable.hpp>
#include <string>

namespace hydra::orchestrate {

// Asks `model` for the task's complexity; a failed call or an unreadable reply is MODERATE.
boost::asio::awaitable<Complexity> analyse(RunContext& ctx, std::string model);

// Asks `model` for a plan; a failed call gives the single-sub-task plan.
boost::asio::awaitable<Plan> decompose(RunContext& ctx, std::string model, int max_subtasks);

// SIMPLE: one sub-task, one call to `model`, streamed as synthesis; its answer is synthesized.
boost::asio::awaitable<void> answer_simple(RunContext& ctx, std::string model);

// The heavy model combines the sub-tasks' results, streamed as synthesis. Fails the run when
// no sub-task succeeded or the call fails.
boost::asio::awaitable<void> synthesise(RunContext& ctx, std::string model);

// Marks the run failed with `error` (the first error wins).
void fail_run(Run& run, std::string error);

}  // namespace hydra::orchestrate
