#include "api/admission.hpp"

#include "routing/scorers.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <cmath>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hydra::api {

namespace asio = boost::asio;

// The slot was counted by the Admission that makes the lease (take() or grant()).
Lease::Lease(Admission& owner, std::shared_ptr<cluster::NodeCounters> counters, std::size_t node)
    : owner_(owner), counters_(std::move(counters)), node_(node) {}

Lease::~Lease() {
  counters_->in_flight.fetch_sub(1, std::memory_order_relaxed);
  owner_.freed(node_);
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

bool Admission::has_room(std::size_t node, const std::string& model) const {
  auto snapshot = snapshots_();
  if (node >= snapshot->nodes.size()) return false;
  const auto& n = snapshot->nodes[node];
  return n.live->in_flight.load(std::memory_order_relaxed) < cluster::slots_for(n, model).slots;
}

void Admission::freed(std::size_t node) {
  // Waiters get slots while the node has room for their model: usually one, more when its
  // learned parallelism has grown meanwhile; none while it is above a parallelism just learned.
  for (std::size_t granted = 0; !closed_ && granted <= queue_.size(); ++granted) {
    auto id = queue_.pick_for(node, clock_.now(), load_check());
    const routing::Waiter* w = id ? queue_.find(*id) : nullptr;
    if (!w || !has_room(node, w->model)) return;
    grant(*id, node);
  }
}

void Admission::grant(uint64_t id, std::size_t node) {
  auto counters = counters_of(node);
  if (!counters) return;
  queue_.remove(id);
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  // Reserve the slot for the waiter now, so that a newcomer cannot take it meanwhile.
  counters->in_flight.fetch_add(1, std::memory_order_relaxed);
  it->second->granted = node;
  it->second->timer.cancel();
}

std::unique_ptr<Lease> Admission::take(std::size_t node, std::shared_ptr<cluster::NodeCounters> counters) {
  counters->in_flight.fetch_add(1, std::memory_order_relaxed);
  ++totals_.admitted;
  return std::make_unique<Lease>(*this, std::move(counters), node);
}

std::unique_ptr<Lease> Admission::lease_now(std::size_t node) {
  auto counters = counters_of(node);
  if (!counters) return nullptr;
  counters->in_flight.fetch_add(1, std::memory_order_relaxed);
  return std::make_unique<Lease>(*this, std::move(counters), node);
}

void Admission::close() {
  closed_ = true;
  for (auto& [id, pending] : pending_) pending->timer.cancel();  // each admit() sees closed_ and leaves
}

void Admission::leave_queue(uint64_t id) {
  pending_.erase(id);
  queue_.remove(id);
}

std::optional<std::size_t> Admission::free_cold_node(const routing::Waiter& w) const {
  auto snapshot = snapshots_();
  for (auto n : w.cold) {
    if (n >= snapshot->nodes.size()) continue;
    const auto& node = snapshot->nodes[n];
    if (node.live->in_flight.load(std::memory_order_relaxed) < cluster::slots_for(node, w.model).slots &&
        can_load(w, n))
      return n;
  }
  return std::nullopt;
}

http::awaitable<AdmitOutcome> Admission::admit(ReplySink& requester, const cluster::Snapshot& snapshot,
                                               const routing::Decision& decision, const std::string& model,
                                               int priority) {
  using namespace asio::experimental::awaitable_operators;
  AdmitOutcome out;
  if (closed_) {
    out.error = "hydra is shutting down";
    out.retry_after_s = 1;
    co_return out;
  }
  const auto now = clock_.now();
  routing::Waiter w = routing::make_waiter(decision, model, priority, now, &snapshot);
  std::size_t ahead = w.warm.empty() ? 0 : queue_.warm_waiting(w.warm.front());
  if (auto node = routing::pick_free_candidate(snapshot, decision, ahead, &out.why)) {
    if (auto waiter = queue_.pick_for(*node, now, load_check())) {
      grant(*waiter, *node);  // someone waiting may use this free slot: it goes first
      out.why.clear();
    } else {
      out.lease = take(*node, snapshot.nodes[*node].live);
      co_return out;
    }
  }
  w.id = next_id_++;
  if (!queue_.push(w)) {
    ++totals_.rejected;
    out.error = "server busy, please try again.  maximum pending requests exceeded";
    out.retry_after_s = retry_after(snapshot, decision);
    co_return out;
  }
  out.waited = true;
  ++totals_.queued;
  spdlog::debug("every candidate is busy: request queued at priority {} ({} waiting)", priority, queue_.size());
  auto pending = std::make_shared<Pending>(executor_);
  pending_[w.id] = pending;
  const auto since = std::chrono::steady_clock::now();
  const Nanos max_wait = queue_.settings().max_wait;
  // A waiter with a cold option wakes once when a load there becomes worth it, in case that
  // node is idle (an idle node frees no slot, so nothing else would wake it).
  bool cold_check_due = !w.cold.empty() && !w.warm.empty() && w.cold_after < max_wait;
  for (;;) {
    pending->timer.expires_at(since + (cold_check_due ? w.cold_after : max_wait));
    auto which = co_await (pending->timer.async_wait(http::use_nothrow) || requester.gone());
    if (pending->granted) {
      pending_.erase(w.id);
      out.lease = std::make_unique<Lease>(*this, counters_of(*pending->granted), *pending->granted);
      if (which.index() == 1) {  // granted, but the client left at the same moment
        out.lease.reset();       // gives the slot to the next waiter
        out.client_gone = true;
        ++totals_.abandoned;
      } else {
        ++totals_.admitted;
      }
      co_return out;
    }
    if (which.index() == 1) {
      leave_queue(w.id);
      out.client_gone = true;
      ++totals_.abandoned;
      co_return out;
    }
    if (closed_) {
      leave_queue(w.id);
      ++totals_.rejected;
      out.error = "hydra is shutting down";
      out.retry_after_s = 1;
      co_return out;
    }
    if (!cold_check_due) break;
    cold_check_due = false;
    if (auto node = free_cold_node(w)) {
      leave_queue(w.id);
      out.why = fmt::format("the nodes holding {} stayed full for {:.1f} s, as long as loading it takes: loading it here",
                            w.model, std::chrono::duration<double>(w.cold_after).count());
      out.lease = take(*node, counters_of(*node));
      co_return out;
    }
  }
  leave_queue(w.id);
  ++totals_.rejected;
  out.error = "server busy, please try again.  maximum pending requests exceeded";
  out.retry_after_s = retry_after(snapshot, decision);
  co_return out;
}

}  // namespace hydra::api
