#pragma once
// Node health as a small state machine: healthy -> suspect on a failure (probed faster),
// ejected after consecutive failures with exponential backoff, readmitted by a passing probe.
// Pure: the caller supplies the time.
#include "cluster/snapshot.hpp"

#include <chrono>

namespace hydra::cluster {

struct HealthSettings {
  std::chrono::milliseconds interval{2'000};          // probe period of a healthy node
  std::chrono::milliseconds suspect_interval{500};    // probe period of a suspect/ejected one
  std::chrono::milliseconds models_interval{5'000};   // /api/tags + /api/ps refresh period
  std::chrono::milliseconds probe_timeout{2'000};
  int eject_after = 3;                                // consecutive failures
  std::chrono::milliseconds eject_base{1'000};        // first ejection; doubles each time
  std::chrono::milliseconds eject_max{60'000};
  bool agents = true;                                 // ask each node's `hydra agent` for VRAM/RAM
  std::chrono::milliseconds dns_interval{60'000};     // re-resolve nodes configured by host name
  uint16_t agent_port = 11435;
  // A request for a model no node has re-reads every node's models (it may have just been
  // pulled), but the whole fleet at most once per this interval.
  std::chrono::milliseconds refresh_min_interval{2'000};
};

// A passing probe: brings an unknown node in, readmits an ejected one once its backoff is
// over, and clears suspicion, but keeps the failure count: only served requests clear that,
// so a node that answers probes yet fails requests is still ejected.
void on_probe_success(NodeView& node, SteadyTime now);
// A request the node served.
void on_request_success(NodeView& node);
void on_failure(NodeView& node, SteadyTime now, const HealthSettings& s, std::string reason);
// How long until the next probe of this node.
std::chrono::milliseconds probe_interval(const NodeView& node, SteadyTime now, const HealthSettings& s);

}  // namespace hydra::cluster
