#include "api/admission.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <cmath>
#include <spdlog/spdlog.h>

namespace hydra::api {

namespace asio = boost::asio;

Slot::~Slot() {
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
    slots += n.slots;
  }
  double seconds = busy_ms / 1000.0 * static_cast<double>(queue_.size() + 1) / std::max(slots, 1);
  return static_cast<int>(std::clamp(std::ceil(seconds), 1.0, 300.0));
}

void Admission::freed(std::size_t node) {
  auto id = queue_.pick_for(node, clock_.now());
  if (!id) return;
  auto counters = counters_of(node);
  if (!counters) return;
  queue_.remove(*id);
  auto it = pending_.find(*id);
  if (it == pending_.end()) return;
  // Reserve the slot for the waiter now, so that a newcomer cannot take it meanwhile.
  counters->in_flight.fetch_add(1, std::memory_order_relaxed);
  it->second->granted = node;
  it->second->timer.cancel();
}

http::awaitable<AdmitOutcome> Admission::admit(ReplySink& requester, const cluster::Snapshot& snapshot,
                                               const routing::Decision& decision, int priority) {
  using namespace asio::experimental::awaitable_operators;
  AdmitOutcome out;
  // Newcomers do not overtake requests already waiting for the same nodes.
  if (!queue_.anyone_waiting_for(decision.ranked)) {
    if (auto node = routing::pick_free_candidate(snapshot, decision, queue_.size())) {
      auto counters = snapshot.nodes[*node].live;
      counters->in_flight.fetch_add(1, std::memory_order_relaxed);
      out.slot = std::make_unique<Slot>(*this, counters, *node);
      ++totals_.admitted;
      co_return out;
    }
  }
  routing::Waiter w;
  w.id = next_id_++;
  w.priority = priority;
  w.enqueued = clock_.now();
  w.nodes = decision.ranked;
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
  pending->timer.expires_after(queue_.settings().max_wait);
  auto which = co_await (pending->timer.async_wait(http::use_nothrow) || requester.gone());
  pending_.erase(w.id);
  if (pending->granted) {
    out.slot = std::make_unique<Slot>(*this, counters_of(*pending->granted), *pending->granted);
    if (which.index() == 1) {  // granted, but the client left at the same moment
      out.slot.reset();        // gives the slot to the next waiter
      out.client_gone = true;
      ++totals_.abandoned;
    } else {
      ++totals_.admitted;
    }
    co_return out;
  }
  queue_.remove(w.id);
  if (which.index() == 1) {
    out.client_gone = true;
    ++totals_.abandoned;
    co_return out;
  }
  ++totals_.rejected;
  out.error = "server busy, please try again.  maximum pending requests exceeded";
  out.retry_after_s = retry_after(snapshot, decision);
  co_return out;
}

}  // namespace hydra::api
