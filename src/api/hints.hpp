#pragma once
// Routing hints a client can add to any Ollama or OpenAI request, as headers:
//   X-Hydra-Node: host:port      use that node when it is healthy and has the model
//   X-Hydra-Min-VRAM-GB: 16      only nodes with that much free VRAM, if any
//   X-Hydra-Prefer-Local: true   favour nodes on the gateway's machine
//   X-Hydra-Priority: 1..10      order in the queue when every node is busy (default 5)
//   X-Hydra-Session: ID          keep a conversation on the node that served it last, while
//                                that node is healthy, holds the model and has a free slot
#include "http/request.hpp"
#include "routing/route.hpp"

#include <string>

namespace hydra::api {

// Fills the hint fields of `out`; returns an error sentence when a header is malformed.
std::string read_hint_headers(const http::Request& request, routing::RouteRequest& out);

}  // namespace hydra::api
