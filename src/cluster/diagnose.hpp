#pragma once
// `hydra diag`: checks one node the way the gateway would use it, step by step, and says in
// plain words what is wrong and what to do. The steps: the host name resolves; the port
// answers; it answers as Ollama (GET /api/version); it has models (GET /api/tags); which are
// loaded (GET /api/ps); whether a `hydra agent` reports its memory (GET :11435/hydra/agent).
// A failed step that makes the later ones pointless ends the list.
#include "cluster/node_info.hpp"
#include "http/stream.hpp"
#include "http/types.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace hydra::cluster {

struct Check {
  enum class Level { ok, warn, fail };
  std::string step;    // "address", "connect", "ollama", "models", "loaded", "agent"
  Level level = Level::ok;
  std::string detail;  // what was seen
  std::string advice;  // what to do about it (empty when nothing)
};
const char* to_string(Check::Level level);

struct Diagnosis {
  std::string url;
  std::vector<Check> checks;
  bool ok() const;  // no step failed (warnings allowed)
};

// Runs the checks against `node` (an Ollama URL, as given to `hydra serve --node`). Each
// request is bounded by `timeout`. An https node is verified with `tls` (see
// http::make_client_context; null: the system's CAs). Never throws.
http::awaitable<Diagnosis> diagnose(http::asio::any_io_executor executor, NodeUrl node, uint16_t default_agent_port,
                                    std::chrono::milliseconds timeout,
                                    std::shared_ptr<http::ssl::context> tls = nullptr);

// What a failed request to a node means, in words a user can act on (pure; tested alone).
Check explain_unreachable(const NodeUrl& node, const boost::system::error_code& ec, std::chrono::milliseconds timeout);

}  // namespace hydra::cluster
