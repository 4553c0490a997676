#pragma once
// Ollama tool calls -> OpenAI tool calls, shared by whole replies and stream deltas (internal).
#include "api/openai/response.hpp"

#include <boost/json/array.hpp>

namespace hydra::api::openai::detail {

// Ollama {"id"?, "function":{"name","arguments":{...}}} -> OpenAI {"id","type":"function",
// "function":{"name","arguments":"<JSON text>"}}. `first_index` numbers the calls across a
// stream; ids missing from the node are derived from the reply id and that index, so they
// are unique per request and stable in tests. With `with_index`, each call carries "index"
// (stream deltas do, whole messages do not).
boost::json::array tool_calls(const boost::json::array& ollama, const ReplyContext& ctx, size_t first_index,
                              bool with_index);

// Usage from an Ollama final chunk's counts.
boost::json::object usage(const boost::json::object& reply);

}  // namespace hydra::api::openai::detail
