#pragma once
// Owns the fleet: the node list, their probes, and the published snapshot. Runs on the
// gateway's control thread; readers anywhere take snapshot() without locking. What the data
// path reports (report_*, request_refresh, loading_*) may come from any thread: it is posted
// to the control thread.
#include "cluster/health.hpp"
#include "cluster/node_info.hpp"
#include "cluster/snapshot.hpp"
#include "common/shared_value.hpp"
#include "http/client.hpp"
#include "http/threads.hpp"

#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

namespace hydra::cluster {

// Where the gateway connects to reach a node (its resolved address; over TLS when its URL is
// https, verified against the host it was configured with), and its `hydra agent`, which
// serves TLS when its node does.
http::Peer peer_of(const NodeView& node);
http::Peer agent_peer_of(const NodeView& node, uint16_t agent_port);

class Cluster {
public:
  Cluster(http::asio::any_io_executor executor, http::ConnectionPool& pool, HealthSettings settings,
          const Clock& clock);

  // Adds a statically configured node; resolves its host now (start-up: throws on failure).
  std::size_t add_node(const NodeUrl& url, int slots = 4);

  // Registration by an agent (the URL's host must be a literal IP: no DNS on the data path).
  // Adds the node, or renews it; it is forgotten when no heartbeat comes within `grace`.
  struct Registration {
    NodeUrl url;
    std::string name;
    std::optional<Resources> resources;  // the agent's reading, if sent
  };
  // `source` is registered (an agent) or discovered (a scan found it; each scan renews it).
  std::size_t register_node(const Registration& r, Nanos grace, NodeSource source = NodeSource::registered);
  // False when no registered node has that id (the agent should register again).
  bool heartbeat(const std::string& id, std::optional<Resources> resources, Nanos grace);
  // Several gateways: a registered node's deadline set to now + grace (another gateway renewed
  // it), without counting a heartbeat. False when unknown here.
  bool extend(const std::string& id, Nanos grace);
  // A llama-server Hydra started as the coordinator of a sharded model (api/shards.hpp): a
  // node like a configured one, marked with the model's name. `url` has an IP literal.
  std::size_t add_coordinator(const NodeUrl& url, const std::string& model);
  // Forgets a node (any source). False when unknown.
  bool remove_node(const std::string& id);
  // Starts the probe loops.
  void start();
  // Probes every node once, fetching its models (start-up, `hydra diag`).
  http::awaitable<void> probe_all_once();

  // Re-reads every healthy node's models now, all nodes at once (a model asked for may have
  // just been pulled). Single-flight: a call while one runs waits for that one. At most one
  // per settings().refresh_min_interval: a call sooner returns at once.
  http::awaitable<void> refresh_all_models();
  uint64_t fleet_refreshes() const { return fleet_refreshes_; }  // started so far

  std::shared_ptr<const Snapshot> snapshot() const { return snapshot_.load(); }

  // Outcomes seen by the data path: a failed request counts like a failed probe.
  void report_failure(std::size_t index, std::string reason);
  void report_success(std::size_t index);
  // The same from a view of the node in a published snapshot, on any thread: nothing when the
  // node has nothing to clear (NodeCounters::success_clears), so a healthy node's successes
  // never wake the control thread.
  void report_success(const NodeView& node);
  // Asks for a prompt refresh of a node's models (a load or unload passed through).
  void request_refresh(std::size_t index);
  // A request that needs a cold load of `model` was sent to the node: until the model shows
  // as resident (or the request ends), routing treats the node as loading it, so that other
  // requests join that load rather than start one elsewhere.
  void loading_started(std::size_t index, const std::string& model);
  void loading_ended(std::size_t index, const std::string& model);
  const HealthSettings& settings() const { return settings_; }

  // Several gateways (api/shared_sync.cpp): told of each ejection this gateway decides (its
  // probes, its requests), with the node and how long it stays out.
  using EjectObserver = std::function<void(const NodeView& node, Nanos backoff)>;
  void on_eject(EjectObserver observer) { on_eject_ = std::move(observer); }
  // Another gateway ejected the node: it is avoided here too until `backoff` has passed, then
  // readmitted by the same rule (a passing probe). False when the node is unknown here.
  bool eject_elsewhere(const std::string& id, Nanos backoff, std::string reason);
  // The registered (or discovered) nodes' ids: what several gateways compare with Redis.
  std::vector<std::string> registered_ids() const;
  // The llama.cpp rpc-servers as cluster/rpc_watch.hpp last saw them.
  void set_rpc_servers(std::vector<RpcServerView> servers);

private:
  // Per node, beside its NodeView: shared by the coroutines working on the node (its probe
  // loop, a refresh), so that a forgotten node's slot is reused only once none of them runs.
  struct Runtime {
    explicit Runtime(http::asio::any_io_executor ex) : wake(ex) {}
    http::asio::steady_timer wake;
    bool refresh_wanted = true;
    SteadyTime models_due{};
    double vram_gb = -1, ram_gb = -1;  // configured capacity (< 0: none)
    uint16_t agent_port = 0;
    SteadyTime agent_retry{};          // an absent agent is asked again only after this
    bool name_given = false;           // registered with a name: probes do not rename it
    std::optional<Resources> pushed;   // sent by the node's agent with its heartbeat
    SteadyTime registered_until{SteadyTime::max()};  // registered nodes: heartbeat deadline
    bool loop_running = false;
    SteadyTime resolve_due{};          // nodes configured by host name: next DNS look-up
    bool kind_fixed = false;           // configured `#kind=`: never re-detected
  };
  http::awaitable<void> re_resolve(std::size_t index);
  std::size_t add_resolved(const NodeUrl& url, const std::string& ip, int slots, NodeSource source);
  std::optional<std::size_t> find(const std::string& id) const;  // a known node (removed ones too)
  bool known(std::size_t index) const;  // a slot that holds a node (possibly removed, not yet freed)
  void forget(std::size_t index);  // marks it removed, drops what it held; its slot is freed later
  // Frees the slots of removed nodes that nothing refers to any more (no coroutine of ours,
  // no request: their NodeCounters are held by nodes_ and the current snapshot only), so a
  // slot's index never names two nodes for anyone who still holds it.
  void reclaim();
  // The figures a node's agent sent (registration or heartbeat) become its resources; true when
  // they changed.
  bool take_pushed(std::size_t index, Resources resources);
  void start_loop(std::size_t index);
  http::awaitable<void> restart_loop(std::size_t index, std::shared_ptr<Runtime> rt);
  http::awaitable<std::optional<Resources>> read_agent(std::size_t index);
  // Publishing: a change to node i marks it (publish(i)); one publish follows at the end of
  // the event loop's turn, however many changes the turn made, and copies only the nodes
  // marked (next_snapshot()). publish() alone: something beside the nodes changed.
  // publish_now() publishes what is pending at once, for callers that read the snapshot next
  // and for changes the next request routed must see (a load started: it joins that load).
  void publish(std::size_t index);
  void publish();
  void publish_now(std::size_t index);
  void publish_now();
  void note_success_clears(std::size_t index);  // NodeCounters::success_clears from nodes_[index]
  void probe_failed(std::size_t index, const http::Peer& peer, std::string reason);  // logged, failed(), published
  void failed(std::size_t index, std::string reason);  // on_failure; an ejection told on_eject_
  http::awaitable<void> probe_loop(std::size_t index, std::shared_ptr<Runtime> rt);
  http::awaitable<void> probe(std::size_t index);
  http::awaitable<void> refresh_models(std::size_t index, http::Peer peer);
  // llama-server nodes (cluster/llama_probe.cpp): /health, then /slots; their model, slots and
  // busy slots from /v1/models, /props, /slots. probe_kind: a node whose /api/version is
  // missing is asked /props; true when it turned out to be a llama-server.
  http::awaitable<void> probe_llama(std::size_t index, http::Peer peer);
  http::awaitable<void> refresh_llama(std::size_t index, http::Peer peer);
  http::awaitable<bool> probe_kind(std::size_t index, http::Peer peer);
  http::awaitable<void> refresh_node(std::size_t index, std::shared_ptr<Runtime> rt);
  http::tcp::endpoint endpoint(std::size_t index) const;

  http::asio::any_io_executor executor_;
  http::ConnectionPool& pool_;
  HealthSettings settings_;
  const Clock& clock_;
  std::vector<NodeView> nodes_;  // the master copy, mutated on the cluster's thread only; a
                                 // change to a published field is followed by publish(index)
  std::vector<std::shared_ptr<Runtime>> runtime_;  // null: a free slot
  std::unordered_map<std::string, std::size_t> by_id_;  // id -> slot, removed nodes included until freed
  std::vector<std::size_t> removed_;  // slots of removed nodes not yet freed
  std::vector<std::size_t> free_;     // slots to reuse
  std::shared_ptr<http::asio::steady_timer> refreshing_;  // set while a fleet-wide refresh runs
  std::optional<SteadyTime> last_fleet_refresh_;
  uint64_t fleet_refreshes_ = 0;
  SharedValue<const Snapshot> snapshot_;
  std::vector<bool> dirty_;        // per node: changed since the last publish (beside nodes_)
  bool publish_pending_ = false;   // something changed since the last publish
  bool publish_posted_ = false;    // a publish is queued for the end of this turn
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // a queued publish of a Cluster gone does nothing
  std::vector<RpcServerView> rpc_servers_;
  EjectObserver on_eject_;
  uint64_t generation_ = 0;
  bool started_ = false;
};

}  // namespace hydra::cluster
