#include "cluster/health.hpp"

#include <algorithm>

namespace hydra::cluster {

void on_probe_success(NodeView& node, SteadyTime now) {
  if (node.health == Health::ejected) {
    if (now < node.ejected_until) return;  // serve out the backoff
    node.consecutive_failures = 0;
  }
  node.health = Health::healthy;
}

void on_request_success(NodeView& node) {
  node.health = Health::healthy;
  node.consecutive_failures = 0;
  node.last_error.clear();
}

void on_failure(NodeView& node, SteadyTime now, const HealthSettings& s, std::string reason) {
  node.last_error = std::move(reason);
  ++node.consecutive_failures;
  if (node.health == Health::ejected && now < node.ejected_until) return;  // already out
  if (node.consecutive_failures >= s.eject_after || node.health == Health::ejected ||
      node.health == Health::unknown) {
    // Each ejection lasts twice as long as the previous one, up to the cap.
    auto backoff = s.eject_base * (1LL << std::min(node.ejections, 16));
    node.ejected_until = now + std::min<std::chrono::nanoseconds>(backoff, s.eject_max);
    ++node.ejections;
    node.health = Health::ejected;
    return;
  }
  node.health = Health::suspect;
}

std::chrono::milliseconds probe_interval(const NodeView& node, SteadyTime now, const HealthSettings& s) {
  using std::chrono::milliseconds;
  if (node.health == Health::healthy) return s.interval;
  if (node.health == Health::ejected && node.ejected_until > now)
    return std::max(s.suspect_interval,
                    std::chrono::duration_cast<milliseconds>(node.ejected_until - now));
  return s.suspect_interval;
}

}  // namespace hydra::cluster
