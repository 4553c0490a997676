#include "routing/admission_queue.hpp"

#include <algorithm>
#include <fmt/format.h>

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

const Waiter* AdmissionQueue::find(uint64_t id) const {
  auto it = std::find_if(waiters_.begin(), waiters_.end(), [&](const Waiter& w) { return w.id == id; });
  return it == waiters_.end() ? nullptr : &*it;
}

double AdmissionQueue::effective_priority(const Waiter& w, SteadyTime now) const {
  double waited = std::chrono::duration<double>(now - w.enqueued).count();
  double step = std::chrono::duration<double>(settings_.aging_step).count();
  return w.priority + (step > 0 ? waited / step : 0);
}

namespace {

bool contains(const std::vector<std::size_t>& v, std::size_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

double duration_s(const cluster::NodeView& n) {
  return n.live ? n.live->duration_ms.load(std::memory_order_relaxed) / 1000.0 : 0.0;
}

}  // namespace

std::optional<uint64_t> AdmissionQueue::pick_for(std::size_t node, SteadyTime now, const CanLoad& can_load) const {
  const Waiter* best = nullptr;
  double best_p = 0;
  bool best_warm = false;
  for (const auto& w : waiters_) {
    bool is_warm = contains(w.warm, node);
    if (!is_warm) {
      if (best_warm || !contains(w.cold, node)) continue;
      if (!w.warm.empty() && now - w.enqueued < w.cold_after) continue;
      if (can_load && !can_load(w, node)) continue;
    }
    double p = effective_priority(w, now);
    bool better = !best || (is_warm && !best_warm) || p > best_p + 1e-9 ||
                  (std::abs(p - best_p) <= 1e-9 && w.enqueued < best->enqueued);
    if (better) {
      best = &w;
      best_p = p;
      best_warm = is_warm;
    }
  }
  if (!best) return std::nullopt;
  return best->id;
}

std::size_t AdmissionQueue::warm_waiting(std::size_t node) const {
  return static_cast<std::size_t>(
      std::count_if(waiters_.begin(), waiters_.end(), [&](const Waiter& w) { return contains(w.warm, node); }));
}

// Rough cold-load cost: reading the model at ~2 GB/s plus a second of set-up.
double load_seconds(uint64_t size) { return 1.0 + static_cast<double>(size) / 2e9; }

bool loads_without_eviction(Placement p) {
  return p == Placement::gpu || p == Placement::cpu || p == Placement::unknown;
}

Waiter make_waiter(const Decision& decision, const std::string& model, int priority, SteadyTime now,
                   const cluster::Snapshot* snapshot) {
  Waiter w;
  w.priority = priority;
  w.enqueued = now;
  w.model = model;
  w.warm.reserve(decision.candidates.size());  // one allocation, not one per doubling
  for (const auto& c : decision.candidates) {
    (c.worth_waiting ? w.warm : w.cold).push_back(c.index);
    w.model_size = std::max(w.model_size, c.model_size);
  }
  if (w.warm.empty()) return w;
  double load_s = load_seconds(w.model_size);
  if (snapshot) {  // the quickest load seen among the cold candidates, when one was seen
    double seen = 0;
    for (auto i : w.cold)
      if (i < snapshot->nodes.size() && snapshot->nodes[i].live) {
        double ms = snapshot->nodes[i].live->capacity.load_ms(model);
        if (ms > 0 && (seen == 0 || ms < seen)) seen = ms;
      }
    if (seen > 0) load_s = seen / 1000.0;
  }
  w.cold_after = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(load_s));
  return w;
}

double expected_load_seconds(const cluster::NodeView& node, const std::string& model, uint64_t size) {
  const double seen_ms = node.live ? node.live->capacity.load_ms(model) : 0.0;
  return seen_ms > 0 ? seen_ms / 1000.0 : load_seconds(size);
}

std::optional<std::size_t> pick_free_candidate(const cluster::Snapshot& snapshot, const Decision& decision,
                                               std::size_t waiting, std::string* why) {
  // The best candidate's cache saves more than the wait for a slot there costs: wait for it.
  if (!decision.candidates.empty() && decision.candidates.front().prefix_worth_waiting &&
      !decision.candidates.front().has_free_slot)
    return std::nullopt;
  const Candidate* first_warm = nullptr;
  for (const auto& c : decision.candidates) {
    if (!c.worth_waiting) continue;
    if (c.has_free_slot) return c.index;
    if (!first_warm) first_warm = &c;
  }
  // Every warm copy is full (or there is none): the best cold candidate with a free slot.
  const Candidate* cold = nullptr;
  for (const auto& c : decision.candidates)
    if (!c.worth_waiting && c.has_free_slot && loads_without_eviction(c.placement)) {
      cold = &c;
      break;
    }
  if (!first_warm) {
    if (cold) return cold->index;
    // Nowhere to load it without evicting: the best free node anyway (Ollama makes room).
    for (const auto& c : decision.candidates)
      if (c.has_free_slot) return c.index;
    return std::nullopt;
  }
  if (!cold) return std::nullopt;
  // Wait for the warm copy, unless the expected wait (the requests ahead, served `slots` at a
  // time, each taking the node's usual time) exceeds a load there and any slowness.
  const auto& w = snapshot.nodes[first_warm->index];
  const auto& n = snapshot.nodes[cold->index];
  const int slots = cluster::slots_for(w, decision.model).slots;
  double wait_s = duration_s(w) * static_cast<double>(waiting + 1) / std::max(slots, 1);
  double load_s = expected_load_seconds(n, decision.model, cold->model_size);
  double cold_s = load_s + std::max(0.0, duration_s(n) - duration_s(w));
  if (wait_s <= cold_s) return std::nullopt;
  if (why)
    *why = fmt::format("{} is full ({}): waiting there ~{:.1f} s costs more than loading the model on {} (~{:.1f} s)",
                       w.id, slots_busy(w, decision.model), wait_s, n.id, load_s);
  return cold->index;
}

}  // namespace hydra::routing
