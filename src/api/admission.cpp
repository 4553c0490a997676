#include "api/admission.hpp"

#include "api/shared_sync.hpp"
#include "routing/scorers.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <cmath>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hydra::api {

namespace asio = boost::asio;

// The slot was counted by the Admission that makes the lease (take() or grant()).
Lease::Lease(Admission& owner, std::shared_ptr<cluster::NodeCounters> counters, std::size_t node)
    : owner_(owner), counters_(std::move(counters)), node_(node) {}

void Lease::shared_with(SharedSync* shared) {
  shared_ = shared;
  counters_->counted_shared.fetch_add(1, std::memory_order_relaxed);
}

Lease::~Lease() {
  counters_->in_flight.fetch_sub(1, std::memory_order_seq_cst);
  if (shared_) {  // counted in Redis: given back there
    counters_->counted_shared.fetch_sub(1, std::memory_order_relaxed);
    shared_->released(node_);
  }
  // The queue is the control thread's. Meanwhile the slot shows free, but a newcomer admitted
  // there first serves the best waiter with it (enter()). Nobody waiting or being entered: no
  // hand-over. The fence pairs with note_waiting()'s: either this load sees the request
  // enter() is deciding on, or enter() sees this slot free.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (owner_.waiting_.load(std::memory_order_relaxed) == 0) return;
  Admission* owner = &owner_;
  const std::size_t node = node_;
  http::post_control(owner->executor_, [owner, node] { owner->freed(node); });
}

Admission::Admission(asio::any_io_executor executor, routing::QueueSettings settings, const Clock& clock,
                     SnapshotSource snapshots)
    : executor_(std::move(executor)), queue_(settings), clock_(clock), snapshots_(std::move(snapshots)) {}

std::shared_ptr<cluster::NodeCounters> Admission::counters_of(std::size_t node) const {
  auto snapshot = snapshots_();
  return node < snapshot->nodes.size() ? snapshot->nodes[node].live : nullptr;
}

int Admission::retry_after(const cluster::Snapshot& snapshot, const routing::Decision& decision) const {
  double busy_ms = 0;
  int slots = 0;
  for (auto index : decision.ranked) {
    const auto& n = snapshot.nodes[index];
    busy_ms = std::max(busy_ms, n.live->duration_ms.load(std::memory_order_relaxed));
    slots += cluster::slots_for(n, decision.model).slots;
  }
  double seconds = busy_ms / 1000.0 * static_cast<double>(queue_.size() + 1) / std::max(slots, 1);
  return static_cast<int>(std::clamp(std::ceil(seconds), 1.0, 300.0));
}

bool Admission::can_load(const routing::Waiter& w, std::size_t node) const {
  if (w.warm.empty()) return true;  // no node holds the model: loading it anywhere is the only way
  auto snapshot = snapshots_();
  if (node >= snapshot->nodes.size()) return false;
  return routing::loads_without_eviction(routing::placement_of(snapshot->nodes[node], w.model, w.model_size));
}

routing::CanLoad Admission::load_check() const {
  return [this](const routing::Waiter& w, std::size_t node) { return can_load(w, node); };
}

void Admission::freed(std::size_t node) {
  // Waiters get slots while the node has room for their model: usually one, more when its
  // learned parallelism has grown meanwhile; none while it is above a parallelism just learned.
  for (std::size_t granted = 0; !closed() && granted <= queue_.size(); ++granted) {
    auto id = queue_.pick_for(node, clock_.now(), load_check());
    if (!id || !grant(*id, node)) return;
  }
}

void Admission::note_waiting() {
  waiting_.store(queue_.size() + entering_, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

bool Admission::grant(uint64_t id, std::size_t node) {
  auto snapshot = snapshots_();
  const routing::Waiter* w = queue_.find(id);
  auto it = pending_.find(id);
  if (!w || it == pending_.end() || node >= snapshot->nodes.size()) return false;
  // Reserve the slot for the waiter now, so that a newcomer cannot take it meanwhile.
  if (!cluster::claim_slot(snapshot->nodes[node], w->model)) return false;
  queue_.remove(id);
  note_waiting();
  it->second->granted = node;
  wake(it->second);
  return true;
}

void Admission::wake(const std::shared_ptr<Pending>& p) {
  auto on_waiter = [p] {
    p->woken = true;
    p->timer.cancel();
  };
  if (p->thread == http::thread_index()) on_waiter();
  else asio::post(p->timer.get_executor(), std::move(on_waiter));
}

std::unique_ptr<Lease> Admission::claim(const cluster::Snapshot& snapshot, std::size_t node, const std::string& model) {
  if (node >= snapshot.nodes.size() || !cluster::claim_slot(snapshot.nodes[node], model)) return nullptr;
  return std::make_unique<Lease>(*this, snapshot.nodes[node].live, node);
}

std::unique_ptr<Lease> Admission::take(const cluster::Snapshot& snapshot, std::size_t node, const std::string& model) {
  auto lease = claim(snapshot, node, model);
  if (lease) ++totals_.admitted;
  return lease;
}

std::unique_ptr<Lease> Admission::try_enter(const cluster::Snapshot& snapshot, const routing::Decision& decision,
                                            const std::string& model) {
  if (!open_and_idle()) return nullptr;
  const auto node = routing::pick_free_candidate(snapshot, decision, 0);
  if (!node || !snapshot.nodes[*node].resident_model(model)) return nullptr;
  auto lease = claim(snapshot, *node, model);
  if (lease) admitted_elsewhere_.fetch_add(1, std::memory_order_relaxed);
  return lease;
}

std::unique_ptr<Lease> Admission::lease_now(std::size_t node) {
  auto counters = counters_of(node);
  if (!counters) return nullptr;
  counters->in_flight.fetch_add(1, std::memory_order_relaxed);
  auto lease = std::make_unique<Lease>(*this, std::move(counters), node);
  if (shared_ && shared_->hold(node)) lease->shared_with(shared_);
  return lease;
}

void Admission::close() {
  closed_.store(true, std::memory_order_relaxed);
  for (auto& [id, pending] : pending_) wake(pending);  // each admit() sees closed_ and leaves
}

void Admission::leave_queue(uint64_t id) {
  pending_.erase(id);
  queue_.remove(id);
  note_waiting();
}

std::optional<std::size_t> Admission::free_node(const routing::Waiter& w, const std::vector<std::size_t>& nodes,
                                                 bool to_load) const {
  auto snapshot = snapshots_();
  for (auto n : nodes) {
    if (n >= snapshot->nodes.size()) continue;
    const auto& node = snapshot->nodes[n];
    if (cluster::busy(node) < cluster::slots_for(node, w.model).slots && (!to_load || can_load(w, n))) return n;
  }
  return std::nullopt;
}

std::optional<std::size_t> Admission::free_cold_node(const routing::Waiter& w) const {
  return free_node(w, w.cold, true);
}

const routing::Decision& Admission::live(const cluster::Snapshot& snapshot, const routing::Decision& decision,
                                         std::optional<routing::Decision>& fresh) const {
  auto free_now = [&](const routing::Candidate& c) {
    if (c.index >= snapshot.nodes.size()) return false;
    const auto& n = snapshot.nodes[c.index];
    return cluster::busy(n) < cluster::slots_for(n, decision.model).slots;
  };
  bool changed = false;
  for (const auto& c : decision.candidates) changed = changed || free_now(c) != c.has_free_slot;
  if (!changed) return decision;
  fresh = decision;
  for (auto& c : fresh->candidates) c.has_free_slot = free_now(c);
  return *fresh;
}

Admission::Ticket Admission::enter(const cluster::Snapshot& snapshot, const routing::Decision& routed,
                                   const std::string& model, int priority, Waiting where) {
  Ticket entry;
  AdmitOutcome& out = entry.out;
  if (closed()) {
    out.error = "hydra is shutting down";
    out.retry_after_s = 1;
    return entry;
  }
  // Counted as waiting before the counters are read: a lease that ends meanwhile on another
  // thread hands its slot over (~Lease), or this sees it free. Uncounted on the way out.
  ++entering_;
  note_waiting();
  struct Entered {
    Admission& a;
    ~Entered() {
      --a.entering_;
      a.note_waiting();
    }
  } entered{*this};
  // Routing saw the slots as they were when it ran (on another visit to this thread, or before
  // a failover's wait): admission decides on the counters as they are now.
  std::optional<routing::Decision> fresh;
  const routing::Decision* decision = &live(snapshot, routed, fresh);
  const auto now = clock_.now();
  // The requests already waiting for its best warm candidate go first (the waiter itself is
  // made only when it must wait: most are admitted here at once).
  std::size_t ahead = 0;
  for (const auto& c : decision->candidates)
    if (c.worth_waiting) {
      ahead = queue_.warm_waiting(c.index);
      break;
    }
  for (int tries = 0; tries < 3; ++tries) {
    auto node = routing::pick_free_candidate(snapshot, *decision, ahead, &out.why);
    if (!node) break;
    if (auto waiter = queue_.pick_for(*node, now, load_check())) {
      out.why.clear();
      if (grant(*waiter, *node)) break;  // someone waiting may use this free slot: it goes first
    } else if ((out.lease = take(snapshot, *node, model))) {
      return entry;
    }
    out.why.clear();  // a worker took that slot meanwhile: the counters once more
    decision = &live(snapshot, routed, fresh);
  }
  routing::Waiter w = routing::make_waiter(*decision, model, priority, now, &snapshot);
  w.id = next_id_++;
  if (!queue_.push(w)) {
    ++totals_.rejected;
    out.error = "server busy, please try again.  maximum pending requests exceeded";
    out.retry_after_s = retry_after(snapshot, *decision);
    return entry;
  }
  out.waited = true;
  ++totals_.queued;
  spdlog::debug("every candidate is busy: request queued at priority {} ({} waiting)", priority, queue_.size());
  auto pending = std::make_shared<Pending>(std::move(where));
  pending->w = std::move(w);
  pending->since = std::chrono::steady_clock::now();
  const Nanos max_wait = queue_.settings().max_wait;
  // A waiter with a cold option wakes once when a load there becomes worth it, in case that
  // node is idle (an idle node frees no slot, so nothing else would wake it).
  const routing::Waiter& queued = pending->w;
  pending->cold_check_due = !queued.cold.empty() && !queued.warm.empty() && queued.cold_after < max_wait;
  pending->due = pending->since + (pending->cold_check_due ? queued.cold_after : max_wait);
  if (const routing::Candidate& best = decision->candidates.front(); best.prefix_worth_waiting && !best.has_free_slot) {
    const auto budget = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(best.prefix_saved_s));
    pending->prefix_check_due = true;
    pending->due = std::min(pending->due, pending->since + budget);
    pending->prefix_why = fmt::format("waited for a slot there: its cache puts it ~{:.1f} s ahead of the next node",
                                      best.prefix_saved_s);
  }
  pending_[queued.id] = pending;
  entry.pending = std::move(pending);
  return entry;
}

bool Admission::resume(Pending& p, bool gone, const cluster::Snapshot& snapshot, const routing::Decision& decision,
                       AdmitOutcome& out) {
  const uint64_t id = p.w.id;
  out.waited = true;
  if (p.granted) {
    pending_.erase(id);
    out.lease = std::make_unique<Lease>(*this, counters_of(*p.granted), *p.granted);
    if (!p.prefix_why.empty() && !decision.candidates.empty() && *p.granted == decision.candidates.front().index)
      out.why = p.prefix_why;
    if (gone) {            // granted, but the client left at the same moment
      out.lease.reset();   // gives the slot to the next waiter
      out.client_gone = true;
      ++totals_.abandoned;
    } else {
      ++totals_.admitted;
    }
    return true;
  }
  if (gone) {
    leave_queue(id);
    out.client_gone = true;
    ++totals_.abandoned;
    return true;
  }
  if (closed()) {
    leave_queue(id);
    ++totals_.rejected;
    out.error = "hydra is shutting down";
    out.retry_after_s = 1;
    return true;
  }
  if (p.prefix_check_due) {  // waited as long as the cache there saves: any warm free slot now
    p.prefix_check_due = false;
    if (auto n = free_node(p.w, p.w.warm, false); n && *n < snapshot.nodes.size()) {
      if ((out.lease = take(*snapshots_(), *n, p.w.model))) {
        leave_queue(id);
        out.why = fmt::format("the node with the prompt's prefix stayed full longer than its cache saves: {} instead",
                              snapshot.nodes[*n].id);
        return true;
      }
    }
    p.due = p.since + (p.cold_check_due ? p.w.cold_after : queue_.settings().max_wait);
    return false;
  }
  if (p.cold_check_due) {
    p.cold_check_due = false;
    if (auto node = free_cold_node(p.w)) {
      if ((out.lease = take(*snapshots_(), *node, p.w.model))) {
        leave_queue(id);
        out.why = fmt::format(
            "the nodes holding {} stayed full for {:.1f} s, as long as loading it takes: loading it here", p.w.model,
            std::chrono::duration<double>(p.w.cold_after).count());
        return true;
      }
    }
    p.due = p.since + queue_.settings().max_wait;
    return false;
  }
  leave_queue(id);
  ++totals_.rejected;
  // Ollama's "server busy" first (clients know it), then what happened: the wait ran out.
  out.error = fmt::format("server busy, please try again.  no slot came free within {:g} s in the queue (queue.timeout_s)",
                          std::chrono::duration<double>(queue_.settings().max_wait).count());
  out.retry_after_s = retry_after(snapshot, decision);
  return true;
}

http::awaitable<AdmitOutcome> Admission::wait(Ticket ticket, ReplySink& requester, const cluster::Snapshot& snapshot,
                                              const routing::Decision& decision) {
  using namespace asio::experimental::awaitable_operators;
  if (!ticket.pending) co_return std::move(ticket.out);
  std::shared_ptr<Pending> pending = std::move(ticket.pending);
  for (;;) {
    bool gone = false;
    if (!pending->woken) {  // a grant posted before this wait began has set it
      pending->timer.expires_at(pending->due);
      auto which = co_await (pending->timer.async_wait(http::use_nothrow) || requester.gone());
      gone = which.index() == 1;
    }
    pending->woken = false;
    AdmitOutcome out;
    auto resuming = [&] { return resume(*pending, gone, snapshot, decision, out); };
    const bool done = co_await http::on_control(executor_, resuming);
    if (done) co_return out;
  }
}

http::awaitable<AdmitOutcome> Admission::admit(ReplySink& requester, const cluster::Snapshot& snapshot,
                                               const routing::Decision& decision, const std::string& model,
                                               int priority) {
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  Waiting here;
  here.executor = std::move(executor);
  here.thread = http::thread_index();
  auto entering = [&] { return enter(snapshot, decision, model, priority, here); };
  Ticket ticket = co_await http::on_control(executor_, entering);
  AdmitOutcome out = co_await wait(std::move(ticket), requester, snapshot, decision);
  co_return co_await confirmed(std::move(out), requester, snapshot, decision, model, priority);
}

http::awaitable<AdmitOutcome> Admission::confirmed(AdmitOutcome out, ReplySink& requester,
                                                   const cluster::Snapshot& snapshot, const routing::Decision& decision,
                                                   const std::string& model, int priority) {
  if (!shared_) co_return out;
  // Several gateways: a slot free as this gateway counts may be taken through another one
  // meanwhile; Redis has the last word. A refusal updates the node's count of slots held
  // elsewhere, so entering again queues the request (or picks another node) instead of
  // asking again; the queue wakes it when a slot frees anywhere.
  Waiting here;
  here.executor = co_await asio::this_coro::executor;
  here.thread = http::thread_index();
  auto entering = [&] { return enter(snapshot, decision, model, priority, here); };
  for (int refusals = 0; out.lease; ++refusals) {
    const bool waited = out.waited;
    if (co_await shared_->confirm(out.lease->node(), model)) {
      out.lease->shared_with(shared_);
      co_return out;
    }
    refused_elsewhere_.fetch_add(1, std::memory_order_relaxed);
    out.lease.reset();  // the node is full: its waiters are not woken (elsewhere says so)
    if (refusals >= 64) {
      out.error = "server busy, please try again.  every slot is taken through other gateways";
      out.retry_after_s = 1;
      co_return out;
    }
    Ticket ticket = co_await http::on_control(executor_, entering);
    out = co_await wait(std::move(ticket), requester, snapshot, decision);
    if (out.waited && waited) queued_again_.fetch_add(1, std::memory_order_relaxed);
    out.waited = out.waited || waited;
  }
  co_return out;
}

}  // namespace hydra::api
