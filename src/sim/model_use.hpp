#pragma once
// Holding a model for one request: a slot on the node plus one use of the resident model,
// loading it first when needed. Released (slot freed, keep_alive applied) on destruction.
#include "http/types.hpp"
#include "sim/node.hpp"

#include <memory>
#include <optional>
#include <string>

namespace hydra::sim {

class ModelUse {
public:
  ModelUse(Node& node, std::string model, KeepAlive keep_alive)
      : node_(node), alive_(node.alive()), model_(std::move(model)), keep_alive_(keep_alive) {}
  ~ModelUse();
  ModelUse(const ModelUse&) = delete;
  ModelUse& operator=(const ModelUse&) = delete;

  Nanos load_duration{0};
  bool model_held = false;

private:
  Node& node_;
  std::shared_ptr<const bool> alive_;
  std::string model_;
  KeepAlive keep_alive_;
};

struct UseOutcome {
  std::unique_ptr<ModelUse> use;  // null on failure
  http::bhttp::status status = http::bhttp::status::ok;
  std::string error;
};

// Waits for a slot (503 when the queue is full) and for the model to be loaded.
http::awaitable<UseOutcome> use_model(Node& node, const ModelSpec& spec, KeepAlive keep_alive);

// The same, given up when the client of `ex` leaves while the request is queued for a slot
// (then nullopt: the caller just drops the request, which Ollama does too).
http::awaitable<std::optional<UseOutcome>> use_model_for(Node& node, const ModelSpec& spec, KeepAlive keep_alive,
                                                         http::Exchange& ex);

// Ollama's default keep_alive.
inline constexpr KeepAlive kDefaultKeepAlive{false, std::chrono::minutes(5)};

}  // namespace hydra::sim
