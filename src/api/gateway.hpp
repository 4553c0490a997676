#pragma once
// What the API handlers share: the cluster, the upstream pools, routing's randomness and the
// relay settings. Owned by `hydra serve`; outlives every request. Threads (http/threads.hpp):
// the cluster, admission's queue, telemetry, the limiter's bookkeeping and `random` are the
// control thread's (a worker routing on its own uses a random source of its own); `pool()`
// is the calling thread's own; the rest is read-only once serving starts (auth.keys is
// swapped atomically on SIGHUP).
#include "api/access.hpp"
#include "api/admission.hpp"
#include "api/lifecycle.hpp"
#include "api/sink.hpp"
#include "cluster/cidr.hpp"
#include "cluster/cluster.hpp"
#include "http/client.hpp"
#include "http/router.hpp"
#include "http/threads.hpp"
#include "orchestrate/orchestrator.hpp"
#include "routing/random.hpp"
#include "routing/policy.hpp"
#include "routing/route.hpp"
#include "telemetry/telemetry.hpp"

#include <atomic>
#include <shared_mutex>

namespace hydra::memory {
class Cache;
}
namespace hydra::api {
class SharedSync;
class Shards;
}

namespace hydra::api {

struct RelaySettings {
  http::Timeouts timeouts;
  int max_attempts = 3;  // nodes tried for one request before giving up
  bool continue_streams = true;  // a stream whose node breaks off goes on on another (continuation.hpp)
  ReplyLimits limits;    // what a sink takes of one reply (limits.line_kb, limits.reply_mb)
};

struct RegistrationSettings {
  std::vector<cluster::Cidr> allowed = cluster::default_allowed();  // IPv4 ranges nodes may register from
  std::string token;                        // when set: "Authorization: Bearer <token>" required
  Nanos grace = std::chrono::seconds(30);   // forget a registered node after this long without a heartbeat
};

struct Gateway {
  cluster::Cluster& cluster;
  std::vector<http::ConnectionPool*> pools;  // one per thread, the control thread's first
  http::asio::any_io_executor control;       // the control thread's
  std::vector<http::asio::any_io_executor> workers;  // the workers' (none when threads = 1)
  routing::Random& random;
  Admission& admission;
  telemetry::Telemetry& telemetry;
  Lifecycle& lifecycle;
  RelaySettings settings;
  routing::Weights weights;
  RegistrationSettings registration;
  std::string version;  // Hydra's own version, for /api/version when no node answers
  orchestrate::Settings models;                 // model roles; /generate's default is the code model
  orchestrate::Orchestrator* orchestrator = nullptr;  // set by serve before it listens
  orchestrate::RunStore* runs = nullptr;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  routing::Policy policy = routing::Policy::scored;  // baselines exist for benchmarks (routing.policy)
  std::atomic<uint64_t> turn{0};                     // requests routed: round robin's position (any thread)
  AuthSettings auth{};     // API keys and who may do what (access.hpp); keys swap on SIGHUP
  auth::Limiter limiter{}; // per-key limits and accounting
  uint16_t api_port = 0;   // where the API listens, for the dashboard's playground (GET /dashboard/config)
  int threads = 1;         // worker threads serving the API (1: the control thread does)
  memory::Cache* cache = nullptr;  // the response cache (any thread); none when cache.mode = off
  SharedSync* shared = nullptr;    // several gateways (cluster.redis_url); none for a lone one
  Shards* shards = nullptr;        // models sharded over llama.cpp rpc-servers ([[sharded]]); none when none
  // Prefix affinity (routing/prefix.hpp): which prompts each node's slots hold, and where each
  // X-Hydra-Session was last served. Changed only by the control thread, under an exclusive
  // `prefix_lock`; a worker that routes by them reads under a shared one (the control thread
  // reads without: nobody else writes).
  routing::PrefixIndex prefix_index{};
  routing::SessionPins sessions{};
  mutable std::shared_mutex prefix_lock{};
  std::chrono::steady_clock::time_point prefix_swept{};

  // The calling thread's connection pool.
  http::ConnectionPool& pool() const {
    const auto i = static_cast<std::size_t>(http::thread_index());
    return *pools[i < pools.size() ? i : 0];
  }
  // Where the calling thread records what its requests did: a worker into its own tally,
  // the control thread (and any thread without one) into the telemetry itself.
  telemetry::Recorder recorder() const {
    const auto i = static_cast<std::size_t>(http::thread_index());
    return {telemetry, i < telemetry.tallies.size() ? telemetry.tallies[i].get() : nullptr};
  }
};

// Runs `f` on the control thread and resumes on the caller's (http::on_control).
template <class F>
auto on_control(const Gateway& gw, F f) {
  return http::on_control(gw.control, std::move(f));
}
// Hands `f` to the control thread without waiting (at once when already there).
template <class F>
void post_control(const Gateway& gw, F&& f) {
  http::post_control(gw.control, std::forward<F>(f));
}

// The Ollama API: routed endpoints, fan-out endpoints, and per-node management.
void add_ollama_routes(http::Router& router, Gateway& gateway);
// Hydra's own API: GET /nodes; POST /nodes/register, POST /nodes/{id}/heartbeat, DELETE /nodes/{id}.
void add_hydra_routes(http::Router& router, Gateway& gateway);
// The OpenAI-compatible API: /v1/chat/completions, /v1/completions, /v1/embeddings,
// /v1/responses, /v1/models.
void add_openai_routes(http::Router& router, Gateway& gateway);
// The API port's answers for unknown paths and wrong methods: OpenAI's error shape under
// /v1/ (404, 405), Ollama's plain text elsewhere, as Ollama answers.
void add_api_misses(http::Router& router);
// Hydra's POST /orchestrate, GET /orchestrate/{task_id}, GET /orchestrate.
void add_orchestrate_routes(http::Router& router, Gateway& gateway);
// GET /metrics (Prometheus) and GET /events (the dashboard's live stream).
void add_live_routes(http::Router& router, Gateway& gateway);
// Publishes the `nodes` and `traffic` events once a second while anyone listens; runs until
// the io_context stops.
http::awaitable<void> publish_live(Gateway& gateway);
// The dashboard's pages: GET / and, as the router's fallback, its assets. Add before the API.
void add_web_routes(http::Router& router);
// Every route of the API port, in one call (the dashboard port serves them too).
void add_all_routes(http::Router& router, Gateway& gateway);
// Hydra's read-only views: GET /health, /stats, /models, /routing.
void add_status_routes(http::Router& router, Gateway& gateway);
// DELETE /cache (?model=): purges the response cache.
void add_cache_routes(http::Router& router, Gateway& gateway);
// GET /nodes's body (and the dashboard's `nodes` event): the nodes, and with several gateways
// the live ones.
boost::json::object fleet_json(const Gateway& gateway, const cluster::Snapshot& snapshot);
// GET /stats's body (this gateway's figures).
boost::json::object stats_body(const Gateway& gateway);
// Several gateways: a node another gateway registered (its registration body as kept in
// Redis, with "id") is added here, or renewed for `ttl` when known. False when the body is not
// a registration.
bool register_from_elsewhere(Gateway& gateway, const boost::json::object& body, Nanos ttl);
// The response cache's figures, for /stats and /health.
boost::json::object cache_json(const Gateway& gateway);
// Hydra's POST /generate and POST /generate/stream.
void add_generate_routes(http::Router& router, Gateway& gateway);

}  // namespace hydra::api
