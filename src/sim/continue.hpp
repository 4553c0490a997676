#pragma once
// The reply to a request that may end with part of an answer. A partial answer (a trailing
// assistant message, or the end of a raw prompt) that starts this node's reply is continued with
// exactly the rest of it, as a model continues its own words. Any other trailing assistant text
// is continued with words of the sim's own, which are continued the same way once part of them
// follows that text. Ollama does this with a last assistant message, and so does llama-server
// (assistant prefill): a stream broken off on one node goes on, not again, on another.
#include "sim/replies.hpp"

#include <string>

namespace hydra::sim {

Reply continued_reply(const ReplyBook& book, const std::string& name, const std::string& model,
                      const std::string& prompt, const std::string& partial, bool raw, uint64_t seed);

}  // namespace hydra::sim
