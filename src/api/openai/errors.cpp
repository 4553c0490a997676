#include "api/openai/errors.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace hydra::api::openai {

namespace json = boost::json;

std::string_view error_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 429: return "rate_limit_error";
    default: break;
  }
  // Anything that is not a client error (including a nonsense status) is the server's fault.
  return status >= 400 && status < 500 ? "invalid_request_error" : "server_error";
}

static std::optional<std::string> default_code(int status) {
  switch (status) {
    case 429: return "rate_limit_exceeded";
    case 503: return "service_unavailable";
    default: return std::nullopt;
  }
}

Error make_error(int status, std::string message, std::optional<std::string> param,
                 std::optional<std::string> code) {
  if (!code) code = default_code(status);
  return Error{status, std::move(message), std::string(error_type(status)), std::move(param), std::move(code)};
}

Error invalid_request(std::string message, std::optional<std::string> param) {
  return make_error(400, std::move(message), std::move(param));
}

Error model_not_found(std::string_view model) {
  return make_error(404, fmt::format("model \"{}\" not found, try pulling it first", model), "model",
                    "model_not_found");
}

Error from_ollama_message(int status, std::string message) {
  // Ollama: `model "NAME" not found, try pulling it first` (404).
  const bool unknown_model = status == 404 && message.starts_with("model \"") &&
                             message.find("\" not found") != std::string::npos;
  if (unknown_model) return make_error(404, std::move(message), "model", "model_not_found");
  if (message == "model is required") return make_error(status, std::move(message), "model");
  return make_error(status, std::move(message));
}

Error from_ollama_error(int status, std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (const json::value* e = v.get_object().if_contains("error"); e && e->is_string())
      return from_ollama_message(status, std::string(e->get_string()));
  }
  constexpr size_t kQuote = 200;  // enough to recognise a proxy's error page
  std::string quoted(body.substr(0, kQuote));
  if (body.size() > kQuote) quoted += "...";
  if (quoted.find_first_not_of(" \t\r\n") == std::string::npos)
    return make_error(status, fmt::format("the node answered HTTP {} without a message", status));
  return make_error(status, fmt::format("the node answered HTTP {}: {}", status, quoted));
}

json::object error_object(const Error& e) {
  json::object inner;
  inner["message"] = e.message;
  inner["type"] = e.type;
  inner["param"] = e.param ? json::value(*e.param) : json::value(nullptr);
  inner["code"] = e.code ? json::value(*e.code) : json::value(nullptr);
  json::object out;
  out["error"] = std::move(inner);
  return out;
}

std::string error_body(const Error& e) { return json::serialize(error_object(e)); }

}  // namespace hydra::api::openai
