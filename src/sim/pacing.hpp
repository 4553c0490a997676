#pragma once
// Shared by the Ollama and llama-server generation handlers: token pacing that gives up when
// the client leaves, and --exit-after-tokens.
#include "http/exchange.hpp"
#include "sim/node.hpp"

#include <chrono>

namespace hydra::sim {

// Sleeps until `when`, or returns false early if the client goes away meanwhile.
http::awaitable<bool> pace_until(http::Exchange& ex, std::chrono::steady_clock::time_point when);

// Counts one streamed token; --exit-after-tokens: at the limit the whole process ends (status
// 3), as a machine that crashes mid-stream.
void count_token_for_exit(const Node& node);

}  // namespace hydra::sim
