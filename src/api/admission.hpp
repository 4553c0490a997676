#pragma once
// Admission: a request runs only where a slot is free; otherwise it waits in the bounded
// priority queue (routing/admission_queue) until a slot frees on one of its candidates: a
// node holding the model warm, or, once waiting has cost more than a cold load, a node that
// can load it without evicting models in use.
// Slots are counted in NodeCounters::in_flight, and only through a Lease: one per attempt on a
// node, taken here (admit() for model requests, including each failover attempt; lease_now()
// for per-node operations such as pull), released when that attempt ends, which hands the slot
// straight to the best waiter (an event, not polling). Nothing else touches in_flight.
// The queue lives on the control thread (http/threads.hpp): admit() may be called on any
// thread; its decisions run on the control thread, and a waiter waits on its own thread, woken
// by a post when a slot is granted. A lease may end on any thread; the hand-over is posted.
#include "api/sink.hpp"
#include "cluster/snapshot.hpp"
#include "http/threads.hpp"
#include "routing/admission_queue.hpp"

#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <memory>

namespace hydra::api {

class Admission;
class SharedSync;

// One attempt's claim on a slot of one node.
class Lease {
public:
  Lease(Admission& owner, std::shared_ptr<cluster::NodeCounters> counters, std::size_t node);
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  std::size_t node() const { return node_; }
  // Several gateways: the slot is also counted in Redis, and given back there when this ends.
  void shared_with(SharedSync* shared);

private:
  Admission& owner_;
  std::shared_ptr<cluster::NodeCounters> counters_;
  std::size_t node_;
  SharedSync* shared_ = nullptr;
};

struct AdmitOutcome {
  std::unique_ptr<Lease> lease;  // set when admitted
  bool client_gone = false;
  std::string error;           // when refused: the queue is full or the wait ran out
  int retry_after_s = 0;
  bool waited = false;
  std::string why;  // admitted on a cold node beside a full warm one: why waiting was dearer
};

class Admission {
public:
  using SnapshotSource = std::function<std::shared_ptr<const cluster::Snapshot>()>;
  Admission(http::asio::any_io_executor executor, routing::QueueSettings settings, const Clock& clock,
            SnapshotSource snapshots);
  // Several gateways: each slot taken here is confirmed across them (api/shared_sync.hpp), and
  // a node's slots held elsewhere count as busy (NodeCounters::elsewhere). Start-up only.
  void share_with(SharedSync* shared) { shared_ = shared; }

  // Waits for a slot when every candidate is busy; gives up when the requester is gone.
  // `model` is the normalised name (to judge cold nodes later). Any thread: enter() on the
  // control thread, then wait().
  http::awaitable<AdmitOutcome> admit(ReplySink& requester, const cluster::Snapshot& snapshot,
                                      const routing::Decision& decision, const std::string& model, int priority);

  struct Pending;
  // What the control thread decided at once: an outcome, or a place in the queue.
  struct Ticket {
    AdmitOutcome out;
    std::shared_ptr<Pending> pending;  // set: queued; wait() for the outcome
  };
  // Where a waiter waits: its thread's executor and index (http::thread_index()).
  struct Waiting {
    http::asio::any_io_executor executor;
    int thread = 0;
  };
  // Control thread: a slot now (free slots as the counters say now, not as routing saw them),
  // a refusal, or a place in the queue for a waiter that waits `where`.
  Ticket enter(const cluster::Snapshot& snapshot, const routing::Decision& decision, const std::string& model,
               int priority, Waiting where);
  // The waiter's thread: the ticket's outcome, waiting for a grant when it was queued.
  http::awaitable<AdmitOutcome> wait(Ticket ticket, ReplySink& requester, const cluster::Snapshot& snapshot,
                                     const routing::Decision& decision);
  // Several gateways (share_with): keeps `out`'s lease once Redis confirms the slot; otherwise
  // gives it back and enters again (the queue, or another node), until one is confirmed or the
  // request is refused. Without sharing: `out` as it is. The waiter's thread.
  http::awaitable<AdmitOutcome> confirmed(AdmitOutcome out, ReplySink& requester, const cluster::Snapshot& snapshot,
                                          const routing::Decision& decision, const std::string& model, int priority);
  // Any thread, without a visit to the control thread: a slot on the candidate enter() would
  // pick, when nobody waits in the queue (nobody to go first), admission is open and the node
  // holds the model (a cold load is marked on the control thread). Null: ask enter().
  std::unique_ptr<Lease> try_enter(const cluster::Snapshot& snapshot, const routing::Decision& decision,
                                   const std::string& model);
  // Any thread: admission is open and nobody waits or is being entered, so try_enter() may
  // succeed (a caller checks this before routing for it).
  bool open_and_idle() const {
    return !closed() && waiting_.load(std::memory_order_seq_cst) == 0;
  }
  // A lease on a node whatever its load, without waiting: per-node operations (pull, create,
  // blobs) that do not generate, counted so that routing sees the node busy meanwhile.
  std::unique_ptr<Lease> lease_now(std::size_t node);
  // A slot on `node` was given back (an attempt ended): give it to the best waiter.
  void freed(std::size_t node);
  // Shutdown: every waiter gives up now (503), and later admits are refused. After close(),
  // freed() hands nothing on, so leases may end in any order while the gateway winds down.
  void close();
  bool closed() const { return closed_.load(std::memory_order_relaxed); }
  std::size_t waiting() const { return queue_.size(); }
  const routing::QueueSettings& settings() const { return queue_.settings(); }

  struct Totals {
    uint64_t admitted = 0;  // got a slot (at once or after waiting)
    uint64_t queued = 0;    // had to wait
    uint64_t rejected = 0;  // queue full, or the wait ran out: 503
    uint64_t abandoned = 0; // the requester left while waiting
  };
  // Per request: a slot Redis refused (another gateway took it) sends the request in again,
  // which counted it again; those second counts are taken off here.
  Totals totals() const {
    Totals t = totals_;
    t.admitted += admitted_elsewhere_.load(std::memory_order_relaxed);
    t.admitted -= std::min(t.admitted, refused_elsewhere_.load(std::memory_order_relaxed));
    t.queued -= std::min(t.queued, queued_again_.load(std::memory_order_relaxed));
    return t;
  }
  uint64_t refused_elsewhere() const { return refused_elsewhere_.load(std::memory_order_relaxed); }
  // Of `admitted`, those a worker routed and admitted itself (try_enter), without the control thread.
  uint64_t admitted_by_workers() const { return admitted_elsewhere_.load(std::memory_order_relaxed); }

private:
  friend class Lease;  // posts freed() to the control thread
  // After a wait: true when `out` is final, false to wait again until `p.due`.
  bool resume(Pending& p, bool gone, const cluster::Snapshot& snapshot, const routing::Decision& decision,
              AdmitOutcome& out);
  void wake(const std::shared_ptr<Pending>& p);  // the waiter looks again, on its own thread
  // The decision with each candidate's free slot as the counters say now (a copy only when
  // something changed since routing).
  const routing::Decision& live(const cluster::Snapshot& snapshot, const routing::Decision& decision,
                                std::optional<routing::Decision>& fresh) const;
  std::shared_ptr<cluster::NodeCounters> counters_of(std::size_t node) const;
  // The waiter gets a slot on node, if it still has one free (another thread may have taken it).
  bool grant(uint64_t waiter, std::size_t node);
  // A lease on node if it still has a slot free for the model (cluster::claim_slot); take()
  // counts it as admitted here.
  std::unique_ptr<Lease> claim(const cluster::Snapshot& snapshot, std::size_t node, const std::string& model);
  std::unique_ptr<Lease> take(const cluster::Snapshot& snapshot, std::size_t node, const std::string& model);
  // What a lease's end reads to know whether anyone may want its slot: the queue's length, plus
  // one while enter() decides. Control thread writes it, with a fence (see ~Lease).
  void note_waiting();
  void leave_queue(uint64_t waiter);
  bool can_load(const routing::Waiter& w, std::size_t node) const;
  routing::CanLoad load_check() const;
  std::optional<std::size_t> free_cold_node(const routing::Waiter& w) const;
  // The first of `nodes` with a free slot for the waiter's model (and, `to_load`, room to load it).
  std::optional<std::size_t> free_node(const routing::Waiter& w, const std::vector<std::size_t>& nodes,
                                       bool to_load) const;
  int retry_after(const cluster::Snapshot& snapshot, const routing::Decision& decision) const;

  http::asio::any_io_executor executor_;
  routing::AdmissionQueue queue_;
  const Clock& clock_;
  SnapshotSource snapshots_;
  std::map<uint64_t, std::shared_ptr<Pending>> pending_;
  SharedSync* shared_ = nullptr;
  uint64_t next_id_ = 1;
  Totals totals_;
  std::atomic<uint64_t> refused_elsewhere_{0};  // any thread
  std::atomic<uint64_t> queued_again_{0};  // waited again after a refusal by Redis, having waited before
  std::atomic<uint64_t> admitted_elsewhere_{0};  // by try_enter() on the workers
  std::atomic<std::size_t> waiting_{0};          // note_waiting()
  std::size_t entering_ = 0;                     // enter() under way (control thread)
  std::atomic<bool> closed_{false};
};

// A queued request. The timer and `woken` belong to the waiter's thread; the rest to the
// control thread.
struct Admission::Pending {
  explicit Pending(Waiting where) : timer(std::move(where.executor)), thread(where.thread) {}
  http::asio::steady_timer timer;
  int thread;          // the waiter's
  bool woken = false;  // the waiter's thread: a wake came before it waited again
  std::optional<std::size_t> granted;
  routing::Waiter w;
  std::chrono::steady_clock::time_point since, due;
  bool cold_check_due = false;
  // Queued for the prefix cache on a full node (routing's prefix_worth_waiting): after the
  // prompt evaluation it saves has passed in waiting, a free slot elsewhere will do.
  bool prefix_check_due = false;
  std::string prefix_why;  // said when the wait ends on that node
};

}  // namespace hydra::api
