#pragma once
// The orchestrator's ModelCaller over the gateway: each call is an Ollama /api/generate request
// sent through dispatch() (routing, admission, failover) like any client's, logged as
// endpoint "orchestrate".
#include "api/gateway.hpp"
#include "orchestrate/caller.hpp"

namespace hydra::api {

class GatewayCaller final : public orchestrate::ModelCaller {
public:
  explicit GatewayCaller(Gateway& gw) : gw_(gw) {}
  boost::asio::awaitable<orchestrate::CallResult> call(orchestrate::CallRequest request) override;
  std::vector<std::string> available_models() const override;

private:
  Gateway& gw_;
};

// Model names some routable node of the snapshot has, sorted, without duplicates.
std::vector<std::string> available_models(const cluster::Snapshot& snapshot);

}  // namespace hydra::api
