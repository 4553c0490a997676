#pragma once
// The cluster as routing sees it: an immutable snapshot of every node's health and models,
// plus live per-node counters (in-flight requests) that the gateway updates atomically.
// Plain data: no sockets, no Asio, so routing stays pure.
#include "cluster/capacity.hpp"
#include "common/clock.hpp"

#include <atomic>
#include <boost/iterator/indirect_iterator.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace hydra::cluster {

enum class Health { unknown, healthy, suspect, ejected };
const char* to_string(Health h);

// How a node joined: listed by hand, announced by its agent, or found by a subnet scan.
enum class NodeSource { configured, registered, discovered };
const char* to_string(NodeSource s);

// What a node runs: Ollama, or llama.cpp's llama-server (one model; its API is OpenAI's and
// its own, and Hydra translates Ollama requests for it: api/llama_translate.hpp).
enum class NodeKind { ollama, llama_server };
const char* to_string(NodeKind k);  // "ollama", "llama-server"

// Counters shared by every snapshot of one node; owned jointly, updated lock-free by the
// data path. The EWMAs are 0 until the node has served something.
struct NodeCounters {
  std::atomic<int> in_flight{0};  // this gateway's requests there (leases)
  // Several gateways: the slots the others hold there (their leases, as Redis last said), or
  // while Redis is unreachable the slots left to them (api/shared_sync.cpp). 0 for a lone one.
  std::atomic<int> elsewhere{0};
  // ... and of this gateway's leases there, those that end with a release sent to Redis
  // (confirmed there, or taken while it was away): what it puts back when Redis lost them or
  // comes back.
  std::atomic<int> counted_shared{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<double> ttft_ms{0};       // time to first byte of the reply
  std::atomic<double> chunk_gap_ms{0};  // time between streamed chunks (per token)
  std::atomic<double> duration_ms{0};   // whole request
  std::atomic<double> prefill_tps{0};   // prompt tokens evaluated per second (replies that say)
  std::atomic<double> generation_ms{0}; // a request's time there besides its prompt evaluation
  std::atomic<uint64_t> heartbeats{0};  // an agent's heartbeats since it registered
  // Whether a request's success would change the node (it is not healthy, or failures are
  // counted against it): kept by the control thread wherever it publishes the node, read by
  // workers, which hand a success over only then (the usual healthy case costs no hop).
  std::atomic<bool> success_clears{false};
  // How many requests the node runs at once per model, learned from first-byte times (used
  // when its slots are not configured). Not atomic: touched on the gateway's thread only.
  CapacityLearner capacity;

  // Folds one observation into an EWMA (weight 0.2 for the newest sample).
  static void observe(std::atomic<double>& ewma, double sample) {
    double old = ewma.load(std::memory_order_relaxed);
    ewma.store(old == 0 ? sample : old * 0.8 + sample * 0.2, std::memory_order_relaxed);
  }
};

// What a node has to run models with, and how Hydra knows it.
struct Resources {
  enum class Source { estimated, configured, reported };
  Source source = Source::estimated;
  uint64_t vram_total = 0;  // bytes; 0 with a known source = CPU-only node
  uint64_t vram_free = 0;
  uint64_t ram_total = 0;
  uint64_t ram_free = 0;
  bool known = false;       // false: nothing to go on yet (no agent, no config, nothing loaded)
  bool operator==(const Resources&) const = default;
};
const char* to_string(Resources::Source s);

struct ModelEntry {
  std::string name;          // normalised ("x:latest")
  uint64_t size = 0;
  boost::json::object raw;   // the node's /api/tags entry, passed on untouched
  bool operator==(const ModelEntry&) const = default;
};

struct ResidentEntry {
  std::string name;
  uint64_t size = 0;
  uint64_t size_vram = 0;
  boost::json::object raw;   // the node's /api/ps entry
  bool operator==(const ResidentEntry&) const = default;
};

struct NodeView {
  std::size_t index = 0;     // its slot: stable while the node is known; a removed node's slot
                             // is reused only once no request refers to it (its counters free)
  std::string id;            // "host:port"
  std::string url;           // "http://host:port" or "https://host:port"
  bool tls = false;          // https: connections verify the certificate against tls_name
  std::string tls_name;      // the configured host (a name or an IP literal)
  std::string host_header;   // what to send as Host (Ollama checks it on loopback binds)
  std::string ip;            // resolved address the gateway connects to
  std::string hostname;      // when configured by name: re-resolved every few minutes
  uint16_t port = 0;
  Health health = Health::unknown;
  NodeSource source = NodeSource::configured;
  NodeKind kind = NodeKind::ollama;   // found by probing unless configured (`#kind=`)
  int busy_reported = -1;             // llama-server: slots its /slots shows busy (-1: unknown)
  std::string coordinator;            // a coordinator Hydra started: the sharded model's name
  std::string name;                   // as an agent registered it, if it did
  bool removed = false;               // forgotten (no heartbeat, or deleted), or a free slot; never routed to
  std::string version;
  std::string last_error;
  int consecutive_failures = 0;
  int ejections = 0;
  SteadyTime ejected_until{};
  int slots = 4;             // parallel generations the node runs (OLLAMA_NUM_PARALLEL), when
  bool slots_configured = false;  // ... configured (`#slots=`); else learned per model (slots_for)
  bool local = false;        // on the gateway's own machine (loopback address)
  Resources resources;
  std::vector<std::string> loading;  // models Hydra is cold-loading there right now
  std::vector<ModelEntry> models;
  std::vector<ResidentEntry> resident;
  std::shared_ptr<NodeCounters> live = std::make_shared<NodeCounters>();

  bool routable() const { return !removed && (health == Health::healthy || health == Health::suspect); }
  const ModelEntry* model(std::string_view normalised_name) const;
  const ResidentEntry* resident_model(std::string_view normalised_name) const;
};

// The node's slots in use, by this gateway and by the others sharing the fleet with it.
inline int busy(const NodeView& node) {
  return node.live->in_flight.load(std::memory_order_relaxed) + node.live->elsewhere.load(std::memory_order_relaxed);
}

// How many requests of `model` the node runs at once: its configured slots, else what its
// CapacityLearner has learned (or its prior). Models are normalised names.
SlotsEstimate slots_for(const NodeView& node, std::string_view model);
// Takes one of the node's slots for `model` if its busy count is below them: one atomic step,
// however many threads try at once, so no node runs beyond its slots. False: it is full.
bool claim_slot(const NodeView& node, std::string_view model);
// The node's slots in one number (/nodes, `hydra nodes`): configured; else what was learned
// for the model it has served most; else the prior.
SlotsEstimate node_slots(const NodeView& node);

// A routable node that has a given model, with what routing needs to know about it there.
struct Holder {
  uint32_t node = 0;          // index into Snapshot::nodes
  uint64_t size = 0;          // the model's size on that node
  uint64_t size_vram = 0;     // its VRAM share when resident
  bool resident = false;
  bool loading = false;       // Hydra sent it a request that is loading the model now
};

// The nodes of a snapshot, each an immutable shared copy: a snapshot published after one node
// changed shares every other node's copy with the snapshot before it (copy-on-write per node).
// Readers see plain `const NodeView&` (nodes[i], iteration, front/back); copying a list copies
// pointers only.
class NodeList {
public:
  using Ptr = std::shared_ptr<const NodeView>;
  using const_iterator = boost::indirect_iterator<std::vector<Ptr>::const_iterator>;
  using iterator = const_iterator;
  using value_type = NodeView;
  using size_type = std::size_t;

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const NodeView& operator[](std::size_t i) const { return *items_[i]; }
  const NodeView& front() const { return *items_.front(); }
  const NodeView& back() const { return *items_.back(); }
  const_iterator begin() const { return const_iterator(items_.begin()); }
  const_iterator end() const { return const_iterator(items_.end()); }

  // The writer's side (Cluster, next_snapshot(), hand-made snapshots in tests and benchmarks).
  const Ptr& ptr(std::size_t i) const { return items_[i]; }
  void reserve(std::size_t n) { items_.reserve(n); }
  void push_back(Ptr node) { items_.push_back(std::move(node)); }
  void push_back(NodeView node) { items_.push_back(std::make_shared<const NodeView>(std::move(node))); }
  // A node of a hand-made snapshot to change in place: it gets a copy of its own first, so
  // lists that shared the old copy do not see the change.
  NodeView& edit(std::size_t i);

private:
  std::vector<Ptr> items_;
};

// A llama.cpp rpc-server as its last probe found it (cluster/rpc_probe.hpp).
struct RpcDevice {
  uint64_t free = 0, total = 0;  // bytes
  bool operator==(const RpcDevice&) const = default;
};
struct RpcServerView {
  enum class State { unknown, ready, busy, down, incompatible };
  std::string endpoint;          // "ip:port"
  State state = State::unknown;  // busy: it answers nobody else while a client is attached
  std::string version;           // its ggml-rpc protocol version, "3.7.0"
  std::vector<RpcDevice> devices;
  std::string in_use_by;         // a coordinator of Hydra's attached to it: the model's name
  std::string error;             // down, incompatible: why
  bool discovered = false;       // found by a scan (else configured)
  uint64_t free_bytes() const;   // summed over its devices
  bool operator==(const RpcServerView&) const = default;
};
const char* to_string(RpcServerView::State s);

struct Snapshot {
  uint64_t generation = 0;
  NodeList nodes;
  std::vector<RpcServerView> rpc_servers;  // llama.cpp rpc-servers, configured or discovered

  // Built once per snapshot (build_index) so that a decision never scans the whole fleet:
  // model name -> the routable nodes that have it, residents first.
  std::unordered_map<std::string, std::vector<Holder>> holders;
  std::size_t routable_count = 0;
  bool indexed = false;
  void build_index();
  // The holders of a model (normalised name); empty when none.
  const std::vector<Holder>& holders_of(const std::string& model) const;
};

// Publishing: the snapshot that follows `previous` (null: the first). A node whose `changed`
// flag is set, or that `previous` does not have, is copied from `nodes`; every other node
// shares `previous`'s copy. The model -> holders index is `previous`'s with the copied nodes'
// entries replaced when few changed (about 1 in 50), else built anew. nodes[i].index == i.
std::shared_ptr<Snapshot> next_snapshot(const Snapshot* previous, const std::vector<NodeView>& nodes,
                                        const std::vector<bool>& changed, std::vector<RpcServerView> rpc_servers,
                                        uint64_t generation);

}  // namespace hydra::cluster
