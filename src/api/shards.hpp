#pragma once
// Sharded models (issue #21): a model no single node can hold, served by a llama.cpp
// llama-server ("the coordinator") that Hydra asks a `hydra agent` to start over rpc-servers.
//
// A request for such a model that no plain node has waits in ensure() while Hydra plans
// (routing/shard_plan.hpp: the fewest free rpc-servers, most free memory first, the split by
// free memory), asks the coordinator's agent to start llama-server, waits for its /health, and
// adds it to the fleet as a llama-server node; the request is then routed as any other. The
// watch loop (once a second) restarts a coordinator that ended (llama-server aborts when an
// rpc-server dies) over the rpc-servers left, or marks the model failed with the reason (503
// until a plan fits again), and stops a coordinator idle for keep_alive_s. Each step is logged
// and kept in the model's recent events (/nodes `sharded`, the dashboard). Control thread.
#include "api/gateway.hpp"
#include "api/sharded.hpp"
#include "cluster/node_info.hpp"
#include "cluster/rpc_watch.hpp"
#include "common/shared_value.hpp"
#include "routing/shard_plan.hpp"
#include "telemetry/metrics.hpp"

#include <deque>

namespace hydra::api {

class Shards {
public:
  Shards(Gateway& gw, cluster::RpcWatch& rpc, std::vector<ShardedModel> models, std::string token);

  // Whether `model` (normalised) is a sharded model. Any thread (the list never changes).
  bool manages(const std::string& model) const;
  // Control thread. Completes when the model can be routed (`error` empty), else with why not
  // (a 503's message): a plan does not fit, the agent refused, the coordinator did not come up.
  // `note`: what was done for it (a coordinator started), for the routing log.
  // `after_failure`: a request just failed on its coordinator (failover asks): whether it ended
  // is asked of its agent now, and it is started again if so.
  struct Ensured {
    std::string error, note;
  };
  http::awaitable<Ensured> ensure(std::string model, bool after_failure);
  // The sharded models as /api/tags entries (with "sharded": true), for the lists to show them
  // while no coordinator runs. Any thread.
  const boost::json::array& tags() const { return tags_; }
  // Starts the watch loop.
  void start();

  // /nodes "sharded" and /metrics: as last published (any thread).
  std::shared_ptr<const boost::json::array> json() const { return published_.load(); }
  std::vector<telemetry::ShardSample> samples() const;

private:
  enum class Phase { stopped, starting, ready, failed };
  struct State {
    explicit State(http::Peer a) : agent(std::move(a)) {}
    ShardedModel cfg;
    http::Peer agent;          // the coordinator's `hydra agent`, resolved at start-up
    std::string agent_host;    // its Host header
    Phase phase = Phase::stopped;
    std::string reason;        // failed: why
    std::string node_id;       // the coordinator's node while it exists
    std::string agent_id;      // the agent's id of the llama-server process
    std::vector<std::string> servers;  // rpc-servers it runs over
    std::vector<double> split;
    uint64_t restarts = 0;
    uint64_t starts = 0;       // coordinators that came up
    int agent_misses = 0;      // watch rounds the agent did not answer
    bool checking = false;     // a check() runs
    std::chrono::steady_clock::time_point last_used{};
    std::shared_ptr<http::asio::steady_timer> settled;  // cancelled when a start ends
    std::deque<std::string> events;  // recent steps, newest last
    std::string last_event;          // ... the newest's text, and how often it came again
    int repeats = 0;
  };
  static const char* phase_name(Phase p);
  void publish();  // after every change: what json() and samples() read
  State* find(const std::string& model);
  void note(State& s, std::string what);  // logged and kept
  bool plain_holder(const std::string& model) const;  // a node besides the coordinator has it
  bool coordinator_up(const State& s) const;          // its node is routable
  // The agent's word on its llama-server `id`: running, ended (and how), or no answer.
  struct Process {
    enum Kind { unknown, running, ended } kind = unknown;
    int status = 0;
  };
  http::awaitable<Process> process(const State& s, std::string id);
  http::awaitable<void> bring_up(State& s);
  // Until the coordinator's /health says ready; false with `error` when it ended or timed out.
  http::awaitable<bool> wait_ready(const State& s, cluster::NodeUrl url, std::string agent_id, std::string& error);
  http::awaitable<void> stop(State& s, std::string why);
  http::awaitable<void> watch();
  http::awaitable<void> check(State& s);
  http::awaitable<uint64_t> model_bytes(State& s);
  std::vector<double> per_device(const routing::ShardPlan& plan) const;  // the split, one share per device
  http::awaitable<http::FetchResult> agent(const State& s, http::bhttp::verb method, std::string target, std::string body,
                                          std::chrono::milliseconds timeout);

  Gateway& gw_;
  cluster::RpcWatch& rpc_;
  std::deque<State> states_;  // stable addresses
  std::string token_;
  SharedValue<const boost::json::array> published_;
  boost::json::array tags_;
};

// An agent's refusal in words: its {"error": "..."} message and the status (shards_agent.cpp).
std::string agent_error_text(int status, const std::string& body);

}  // namespace hydra::api
