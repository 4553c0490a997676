#pragma once
// Model calls as the orchestrator makes them: retried once elsewhere, and fanned out to
// several models at once.
#include "orchestrate/caller.hpp"
#include "orchestrate/run.hpp"

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

namespace hydra::orchestrate {

// One call; a failure is retried once with the failed node (when known) added to
// avoid_nodes. A streamed call that already delivered a piece is not retried (the pieces went
// out as events), nor a cancelled one. The retry's error names both failures.
boost::asio::awaitable<CallResult> call_with_retry(ModelCaller& caller, CallRequest request);

// The same prompt to every model in `models` at the same time, each with call_with_retry;
// results in the order of `models`. Outputs have <think> blocks removed.
// `cancel` (may be null) goes with every call.
boost::asio::awaitable<std::vector<ModelResult>> call_models(ModelCaller& caller, std::vector<std::string> models,
                                                             std::string prompt, int priority,
                                                             std::shared_ptr<Cancel> cancel = {},
                                                             std::string request_id = {});

// A call's outcome as a sub-task records it (output without <think> blocks).
ModelResult model_result(const std::string& model, CallResult r);

}  // namespace hydra::orchestrate
