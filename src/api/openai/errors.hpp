#pragma once
// OpenAI-shaped errors: {"error":{"message","type","param","code"}} with the HTTP status that
// carries them. Every translation step returns one of these instead of throwing; the route
// answers it as a JSON body (before streaming) or as an SSE event (mid-stream, see stream.hpp).
//
// Status -> type (code), as chosen for Hydra:
//   400, 409, 413, 415, 422, other 4xx   invalid_request_error
//   401                                  authentication_error
//   403                                  permission_error
//   404                                  invalid_request_error ("model_not_found" for a model)
//   429                                  rate_limit_error ("rate_limit_exceeded")
//   503                                  server_error ("service_unavailable"; Ollama's "server
//                                        busy" and Hydra's full queue: retry later)
//   500, 502, 504, other 5xx             server_error
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace hydra::api::openai {

struct Error {
  int status = 400;  // the HTTP status to answer with
  std::string message;
  std::string type;  // e.g. "invalid_request_error"
  std::optional<std::string> param;  // the offending request field, e.g. "messages[0].role"
  std::optional<std::string> code;   // e.g. "model_not_found"
};

// A translation result: the value, or the error to answer instead.
template <class T>
using Result = std::variant<T, Error>;

// The `type` OpenAI clients expect for an HTTP status (table above).
std::string_view error_type(int status);

// An error whose type (and default code) follows from the status.
Error make_error(int status, std::string message, std::optional<std::string> param = std::nullopt,
                 std::optional<std::string> code = std::nullopt);

// 400 invalid_request_error: what request validation returns.
Error invalid_request(std::string message, std::optional<std::string> param = std::nullopt);

// 404 for a model no node has, in Ollama's words (which users of Ollama recognise) with
// OpenAI's code, so clients that branch on code == "model_not_found" work.
Error model_not_found(std::string_view model);

// A node's (or the gateway's own) Ollama-shaped error: `message` with `status`. Recognises
// Ollama's "model ... not found" (-> model_not_found) and "model is required" (param "model").
Error from_ollama_message(int status, std::string message);

// The same from a reply body: {"error":"..."} as Ollama sends it; any other body is quoted
// (shortened) so the client still learns something.
Error from_ollama_error(int status, std::string_view body);

// {"error":{"message","type","param","code"}}; param and code are null when absent.
boost::json::object error_object(const Error& e);
std::string error_body(const Error& e);

}  // namespace hydra::api::openai
