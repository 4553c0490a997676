#pragma once
// /v1/models and /v1/models/{id} from the models the gateway lists in /api/tags (the union
// of its nodes'): {name, modified_at, ...} -> {id, object:"model", created, owned_by}.
#include "api/openai/errors.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hydra::api::openai {

// One /api/tags entry -> an OpenAI model. created is modified_at in unix seconds, else 0;
// owned_by is "library", as Ollama's own OpenAI layer says.
boost::json::object model_entry(const boost::json::object& tag);

// {object:"list", data:[model...]} for the `models` array of /api/tags (non-objects and
// entries without a name are skipped).
boost::json::object model_list(const boost::json::array& tags);

// The model named `id` (already percent-decoded by the route: clients send "llama3.2%3A3b").
// "llama3" finds "llama3:latest", as in Ollama. Not listed: 404 model_not_found.
Result<boost::json::object> model_object(const boost::json::array& tags, std::string_view id);

// RFC 3339 ("2024-05-01T12:34:56.123456789+02:00", "...Z") -> unix seconds.
std::optional<int64_t> parse_rfc3339(std::string_view text);

}  // namespace hydra::api::openai
