#pragma once
// Server-Sent Events for Hydra's own API (/generate/stream, /orchestrate, later /events):
// `event: <name>\ndata: <json>\n\n`, sent as chunks of a streamed reply.
#include "api/sink.hpp"
#include "http/exchange.hpp"

#include <boost/json/object.hpp>

namespace hydra::api {

std::string sse_event(std::string_view name, const boost::json::object& data);

// Starts a text/event-stream reply (with the routing headers when `served` is given).
// True when the client is gone.
http::awaitable<bool> begin_sse(http::Exchange& ex, const Served* served = nullptr);

// An `error` event {"error": message, "status": status}, then the end of the stream.
http::awaitable<void> send_sse_error(http::Exchange& ex, int status, std::string message);

}  // namespace hydra::api
