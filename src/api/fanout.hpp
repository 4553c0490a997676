#pragma once
// Asking several nodes the same thing at once (tags, ps, delete, pull to all).
#include "api/gateway.hpp"

#include <vector>

namespace hydra::api {

struct NodeReply {
  const cluster::NodeView* node;
  http::FetchResult result;
};

// Sends the request to every node in parallel; replies come back in the nodes' order.
http::awaitable<std::vector<NodeReply>> fan_out(Gateway& gw, std::vector<const cluster::NodeView*> nodes,
                                                http::bhttp::verb method, std::string target,
                                                std::string body, std::chrono::milliseconds timeout);

}  // namespace hydra::api
