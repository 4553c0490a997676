#pragma once
// Pieces shared by the chat and completion request translations (internal).
#include "api/openai/params.hpp"
#include "api/openai/request.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hydra::api::openai::detail {

// model (required, at most limits::kNameBytes): fills call.model. Errors go to `p`.
void read_model(Params& p, OllamaCall& call);

// model (required), stream, stream_options.include_usage, n; fills call.model/stream/
// include_usage. Errors go to `p`.
void read_common(Params& p, OllamaCall& call);

// Sampling parameters -> Ollama `options` (only when any is set): max_tokens /
// max_completion_tokens -> num_predict, temperature, top_p, stop, seed, frequency_penalty,
// presence_penalty.
void read_options(Params& p, boost::json::object& body);

// response_format -> Ollama `format` ("json" or a JSON schema).
void read_response_format(Params& p, boost::json::object& body);

// "data:image/png;base64,AAAA" -> "AAAA". Ollama takes images as base64 only; nodes do not
// fetch remote URLs, so any other URL is an error (recorded in `p`, naming `param`).
std::optional<std::string> data_url_payload(std::string_view url, const std::string& param, Params& p);

// A tool call's `key` (OpenAI: the arguments' JSON text; leniently the object itself) -> the
// object Ollama wants. "" or absent is {}; anything else is an error recorded in `p`.
boost::json::value read_arguments(Params& p, std::string_view key);

}  // namespace hydra::api::openai::detail
