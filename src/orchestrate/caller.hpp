#pragma once
// What the orchestrator needs from the rest of the gateway: one model call routed through the
// normal scheduler, and the names of the models the fleet has. api/ implements it over the
// relay; tests implement it with scripted fakes. The orchestrator never sees a socket.
#include "orchestrate/cancel.hpp"

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::orchestrate {

struct CallRequest {
  std::string model;                     // as configured or chosen by role fallback
  std::string system;                    // optional system prompt
  std::string prompt;
  std::vector<std::string> avoid_nodes;  // node ids not to use (a retry elsewhere)
  int priority = 5;                      // 1..10, as for client requests
  std::string request_id;                // the run's task id: the request log ties the call to its run
  // Called with each piece of text as the node streams it (optional; synthesis streams).
  std::function<void(std::string_view)> on_piece;
  // Set when the run is cancelled (its client left): a call not begun is not made, one under
  // way ends as soon as it can (the node's request is dropped). Null: never cancelled.
  std::shared_ptr<Cancel> cancel;
};

struct CallResult {
  bool ok = false;
  std::string text;      // the whole reply
  std::string model;     // the model that answered
  std::string node_id;   // the node that served it ("host:port")
  std::string node_url;
  std::string reason;    // routing's reason for that node
  std::string error;     // when !ok: why, in a sentence
  double duration_ms = 0;
};

class ModelCaller {
public:
  virtual ~ModelCaller() = default;
  // Never throws; failures come back as !ok with `error` set.
  virtual boost::asio::awaitable<CallResult> call(CallRequest request) = 0;
  // Model names (normalised, e.g. "qwen3:14b") some healthy node has, for role fallback.
  virtual std::vector<std::string> available_models() const = 0;
};

}  // namespace hydra::orchestrate
