#pragma once
// Request ids and trace context (issue #22). A request's X-Request-Id is the client's when it
// is sane (1 to 128 of A-Z a-z 0-9 . _ : -), else 32 random hex digits; it goes back on every
// reply, to the node, and into the request log. A W3C `traceparent` from the client goes on to
// the node with the same trace id and a new parent (span) id: the gateway's hop.
#include "common/short_text.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hydra::api {

RequestIdText request_id_for(std::string_view from_client);
// The traceparent to send on ("00-TRACE-SPAN-FLAGS" with a fresh SPAN), or nullopt when the
// client's is absent or malformed (then none is sent).
std::optional<std::string> next_traceparent(std::string_view from_client);

}  // namespace hydra::api
