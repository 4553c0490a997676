#include "cluster/capacity.hpp"

#include <algorithm>

namespace hydra::cluster {

const char* to_string(SlotsSource s) {
  switch (s) {
    case SlotsSource::configured: return "configured";
    case SlotsSource::learned: return "learned";
    case SlotsSource::default_slots: return "default";
  }
  return "default";
}

ModelCapacity& CapacityLearner::entry(const std::string& model) {
  auto it = models_.find(model);
  if (it != models_.end()) return it->second;
  ModelCapacity m;
  m.slots = std::clamp(settings_.prior, 1, std::max(settings_.max, 1));
  return models_.emplace(model, m).first->second;
}

bool CapacityLearner::queued(const ModelCapacity& m, double ttfb_ms) const {
  return m.baseline_ms > 0 && ttfb_ms > m.baseline_ms * settings_.queued_factor + settings_.queued_margin_ms;
}

void CapacityLearner::observe(const std::string& model, int place, int running, double ttfb_ms, SteadyTime now) {
  if (ttfb_ms < 0) return;
  std::lock_guard lock(mutex_);
  ModelCapacity& m = entry(model);
  ++m.samples;
  if (m.ceiling > 0 && now >= m.ceiling_until) m.ceiling = 0;  // time to try that many again
  if (m.most_running > 0 && now >= m.running_until) m.most_running = 0;
  const bool waited = queued(m, ttfb_ms);
  // The baseline follows the requests that did not wait: a faster one at once, a slower one
  // gradually (longer prompts, a busier machine). A request alone at the node defines it.
  if (!waited || place <= 1)
    m.baseline_ms = m.baseline_ms <= 0 || ttfb_ms < m.baseline_ms ? ttfb_ms : m.baseline_ms * 0.9 + ttfb_ms * 0.1;
  if (waited) {
    if (place <= 1) return;  // slow alone: a long prompt or someone else's load, not our parallelism
    ++m.queued;
    const int below = std::min(m.learned ? m.slots : settings_.max, place - 1);
    m.slots = std::clamp(std::max(below, m.most_running), 1, std::max(settings_.max, 1));
    m.learned = true;
    m.ceiling = m.slots + 1;
    m.ceiling_until = now + settings_.relearn_after;
    m.flat_streak = 0;
    return;
  }
  if (running >= m.most_running) {  // kept while seen again; forgotten once not seen for a while
    m.most_running = running;
    m.running_until = now + settings_.relearn_after;
  }
  if (running > m.slots) {  // streamed more at once than believed (a failover, a per-node lease): proven
    m.slots = std::min(running, settings_.max);
    m.learned = true;
    m.flat_streak = 0;
    return;
  }
  if (place < m.slots) return;
  if (++m.flat_streak < settings_.raise_after) return;
  m.flat_streak = 0;
  m.learned = true;  // it runs this many at once without queueing: no longer a guess
  // One more is tried only once this many were seen streaming at once: a request that waits
  // inside the node only briefly looks flat, and must not raise the estimate on and on.
  if (m.slots < settings_.max && m.most_running >= m.slots && (m.ceiling == 0 || m.slots + 1 < m.ceiling)) ++m.slots;
}

void CapacityLearner::observe_load(const std::string& model, double ttfb_ms) {
  if (ttfb_ms < 0) return;
  std::lock_guard lock(mutex_);
  ModelCapacity& m = entry(model);
  // As quick as a warm request (or quicker than any load): the model was there already, and
  // the snapshot that said otherwise was older than the load.
  if (ttfb_ms <= m.baseline_ms * settings_.queued_factor + settings_.queued_margin_ms) return;
  const double load = std::max(0.0, ttfb_ms - m.baseline_ms);
  m.load_ms = m.load_ms <= 0 ? load : m.load_ms * 0.7 + load * 0.3;
}

SlotsEstimate CapacityLearner::slots(std::string_view model) const {
  std::lock_guard lock(mutex_);
  auto it = models_.find(model);
  if (it == models_.end()) return {std::clamp(settings_.prior, 1, std::max(settings_.max, 1)), SlotsSource::default_slots};
  return {it->second.slots, it->second.learned ? SlotsSource::learned : SlotsSource::default_slots};
}

double CapacityLearner::load_ms(std::string_view model) const {
  std::lock_guard lock(mutex_);
  auto it = models_.find(model);
  return it == models_.end() ? 0.0 : it->second.load_ms;
}

std::map<std::string, ModelCapacity, std::less<>> CapacityLearner::models() const {
  std::lock_guard lock(mutex_);
  return models_;
}

}  // namespace hydra::cluster
