#pragma once
// How many requests a node runs at once for a model (Ollama's OLLAMA_NUM_PARALLEL), learned
// from what the gateway sees when nobody configured it (`#slots=` in the node's URL).
//
// Ollama runs up to its parallelism of requests for a model and queues the rest inside; a
// queued request's first byte comes only once a running one has finished, so its time to first
// byte jumps far past that of a request served at once. The learner keeps, per model, the
// single-request baseline of that time, and for each request its place at the node when it was
// sent (the node's requests sent and not finished, itself included: 1 = alone) and how many of
// them were streaming when its first byte came. A first byte well past the baseline at place k
// (k > 1) means the node runs fewer than k: the estimate drops to k - 1, but never below the
// most it was recently seen streaming at once (requests may reach the node in another order
// than they were sent), and one more than that is not tried again for `relearn_after`. Requests
// served at the estimate with flat first bytes raise it by one (after `raise_after` of them,
// never to a number that queued recently, never above `max`).
// Until it has seen anything, a model's estimate is the prior (Ollama's automatic parallelism
// on a machine with memory to spare) and its source is "default": a guess, not a fact.
// Only streamed replies teach it (a whole reply's first byte is its last); cold loads teach
// the load time instead. Pure: time is passed in. One learner per node, shared by every
// snapshot of it (NodeCounters) and by every thread of the gateway: the places are atomic
// counters, the per-model state sits behind a mutex held for a few map operations (the
// workers' attempts teach it, routing on the control thread reads it).
#include "common/clock.hpp"

#include <chrono>
#include <cstdint>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace hydra::cluster {

enum class SlotsSource { configured, learned, default_slots };
const char* to_string(SlotsSource s);  // "configured" | "learned" | "default"

struct SlotsEstimate {
  int slots = 4;
  SlotsSource source = SlotsSource::default_slots;
};

struct CapacitySettings {
  int prior = 4;                   // Ollama's automatic OLLAMA_NUM_PARALLEL with memory to spare
  int max = 32;                    // never believed without configuration
  double queued_factor = 2.0;      // a first byte later than baseline x this + margin: queued
  double queued_margin_ms = 250;
  int raise_after = 4;             // flat first bytes at the estimate before one more is tried
  Nanos relearn_after = std::chrono::minutes(5);  // a place that queued is tried again after this
};

// What the learner knows of one model on one node.
struct ModelCapacity {
  int slots = 4;
  bool learned = false;      // false: still the prior
  double baseline_ms = 0;    // first byte of a request not queued (EWMA; 0: none seen yet)
  int ceiling = 0;           // this many at once queued (0: none, or forgotten)
  SteadyTime ceiling_until{};
  int most_running = 0;      // the most seen streaming at once with flat first bytes, recently
  SteadyTime running_until{};
  int flat_streak = 0;       // flat first bytes at the estimate since it last changed
  uint64_t samples = 0;
  uint64_t queued = 0;       // samples judged queued inside the node
  double load_ms = 0;        // a cold load's extra time to first byte (EWMA; 0: none seen)
};

class CapacityLearner {
public:
  explicit CapacityLearner(CapacitySettings settings = {}) : settings_(settings) {}

  // A request was sent to the node: its place there (the node's requests sent and not yet
  // finished, itself included). Each call is paired with finished().
  int sent() { return ++at_node_; }
  // Its first byte came: how many of the node's requests are streaming now, itself included.
  int first_byte() { return ++running_; }
  // Pairs with a sent() (and, when it had one, a first_byte()); never below 0.
  void finished(bool had_first_byte) {
    down(at_node_);
    if (had_first_byte) down(running_);
  }
  int at_node() const { return at_node_.load(); }
  int running() const { return running_.load(); }

  // A streamed reply's first byte came `ttfb_ms` after the request was sent at `place`, with
  // `running` of the node's requests streaming (first_byte()).
  void observe(const std::string& model, int place, int running, double ttfb_ms, SteadyTime now);
  // A request that had to load the model first: its first byte came after `ttfb_ms` (one no
  // later than a queued one would be is taken for a model that was there after all).
  void observe_load(const std::string& model, double ttfb_ms);

  SlotsEstimate slots(std::string_view model) const;
  double load_ms(std::string_view model) const;  // 0: no load seen
  std::map<std::string, ModelCapacity, std::less<>> models() const;  // a copy, for /nodes
  const CapacitySettings& settings() const { return settings_; }

private:
  ModelCapacity& entry(const std::string& model);
  static void down(std::atomic<int>& n) {
    int v = n.load();
    while (v > 0 && !n.compare_exchange_weak(v, v - 1)) {
    }
  }
  bool queued(const ModelCapacity& m, double ttfb_ms) const;

  CapacitySettings settings_;
  mutable std::mutex mutex_;  // guards models_
  std::map<std::string, ModelCapacity, std::less<>> models_;
  std::atomic<int> at_node_{0};
  std::atomic<int> running_{0};
};

}  // namespace hydra::cluster
