#pragma once
// Ollama tool calls -> OpenAI tool calls, shared by whole replies and stream deltas (internal).
#include "api/openai/response.hpp"

#include <boost/json/array.hpp>
#include <string>
#include <string_view>

namespace hydra::api::openai::detail {

// Ollama {"id"?, "function":{"name","arguments":{...}}} -> OpenAI {"id","type":"function",
// "function":{"name","arguments":"<JSON text>"}}. `first_index` numbers the calls across a
// stream; ids missing from the node are derived from the reply id and that index, so they
// are unique per request and stable in tests. With `with_index`, each call carries "index"
// (stream deltas do, whole messages do not).
boost::json::array tool_calls(const boost::json::array& ollama, const ReplyContext& ctx, size_t first_index,
                              bool with_index);

// o[key] if it is a string, else "".
std::string string_field(const boost::json::object& o, std::string_view key);

// prefix + 24 letters and digits derived from (seed, index): ids unique per reply and stable
// in tests ("call_..." for tool calls without a node's id, "msg_..."/"fc_..." for items).
std::string derived_id(std::string_view prefix, std::string_view seed, size_t index);

// Usage from an Ollama final chunk's counts.
boost::json::object usage(const boost::json::object& reply);

}  // namespace hydra::api::openai::detail
