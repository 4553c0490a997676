#include "routing/admission_queue.hpp"

#include <algorithm>

namespace hydra::routing {

bool AdmissionQueue::push(Waiter w) {
  if (waiters_.size() >= settings_.max_waiting) return false;
  waiters_.push_back(std::move(w));
  return true;
}

bool AdmissionQueue::remove(uint64_t id) {
  auto it = std::find_if(waiters_.begin(), waiters_.end(), [&](const Waiter& w) { return w.id == id; });
  if (it == waiters_.end()) return false;
  waiters_.erase(it);
  return true;
}

double AdmissionQueue::effective_priority(const Waiter& w, SteadyTime now) const {
  double waited = std::chrono::duration<double>(now - w.enqueued).count();
  double step = std::chrono::duration<double>(settings_.aging_step).count();
  return w.priority + (step > 0 ? waited / step : 0);
}

std::optional<uint64_t> AdmissionQueue::pick_for(std::size_t node, SteadyTime now) const {
  const Waiter* best = nullptr;
  double best_p = 0;
  for (const auto& w : waiters_) {
    if (std::find(w.nodes.begin(), w.nodes.end(), node) == w.nodes.end()) continue;
    double p = effective_priority(w, now);
    if (!best || p > best_p + 1e-9 || (std::abs(p - best_p) <= 1e-9 && w.enqueued < best->enqueued)) {
      best = &w;
      best_p = p;
    }
  }
  if (!best) return std::nullopt;
  return best->id;
}

bool AdmissionQueue::anyone_waiting_for(const std::vector<std::size_t>& nodes) const {
  for (const auto& w : waiters_)
    for (auto n : w.nodes)
      if (std::find(nodes.begin(), nodes.end(), n) != nodes.end()) return true;
  return false;
}

namespace {
// Rough cold-load cost: reading the model at ~2 GB/s plus a second of set-up.
double load_seconds(uint64_t size) { return 1.0 + static_cast<double>(size) / 2e9; }
}  // namespace

std::optional<std::size_t> pick_free_candidate(const cluster::Snapshot& snapshot, const Decision& decision,
                                               std::size_t queued) {
  if (decision.candidates.empty()) return std::nullopt;
  const Candidate& best = decision.candidates.front();
  for (const auto& c : decision.candidates) {
    if (!c.has_free_slot) continue;
    auto resident = [](Placement p) {
      return p == Placement::resident_gpu || p == Placement::resident_partial || p == Placement::resident_cpu ||
             p == Placement::loading;
    };
    bool cold = !resident(c.placement);
    bool best_resident = resident(best.placement);
    if (&c != &best && cold && best_resident && !best.has_free_slot) {
      // Wait for the resident copy, unless the expected wait exceeds a cold load here.
      const auto& b = snapshot.nodes[best.index];
      double per_request_s = b.live ? b.live->duration_ms.load(std::memory_order_relaxed) / 1000.0 : 0;
      double wait_s = per_request_s * static_cast<double>(queued + 1) / std::max(b.slots, 1);
      if (wait_s <= load_seconds(c.model_size)) return std::nullopt;
    }
    return c.index;
  }
  return std::nullopt;
}

}  // namespace hydra::routing
