#pragma once
// Prometheus metrics of the gateway: counters and histograms fed by the data path, gauges read
// from the fleet at scrape time, rendered in the text exposition format (version 0.0.4).
// Single-threaded: the gateway's thread feeds and renders it.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::telemetry {

class Histogram {
public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}
  void observe(double v);
  void add(const Histogram& other);  // the same bounds
  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<uint64_t>& counts() const { return counts_; }  // per bucket, not cumulative
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

// One model request as dispatch saw it end.
struct RequestOutcome {  // views: of strings that outlive the call to Metrics::request
  std::string_view endpoint;  // "/api/chat", "/v1/chat/completions", "orchestrate", ...
  std::string_view model;
  std::string_view node;      // empty when no node served
  std::string_view outcome;   // served | failed | rejected (busy) | unroutable | abandoned
  double ttft_s = -1;    // < 0: unknown
  double total_s = -1;
  uint64_t tokens = 0;   // eval_count of the reply, when it said
  int attempts = 0;
  bool queued = false;
  double queue_wait_s = 0;
};

// What the gateway knows of one node at scrape time.
struct NodeSample {
  std::string id;
  std::string source;  // configured | registered | discovered
  bool up = false;
  int in_flight = 0;
  int ejections = 0;
};

// One API key's accounting (auth::Limiter), by the key's configured name ("" for requests
// that presented no key or an unknown one).
struct KeySample {
  std::string name;
  uint64_t requests = 0;
  uint64_t tokens = 0;
  uint32_t in_progress = 0;
  std::map<std::string, uint64_t> refused;  // by reason
};

// A llama.cpp rpc-server as the gateway last probed it.
struct RpcSample {
  std::string address;
  std::string state;  // ready | busy | down | incompatible | unknown
  uint64_t free_bytes = 0, total_bytes = 0;
  bool in_use = false;  // a coordinator of Hydra's is attached
};

// A sharded model's coordinator (a llama-server over rpc-servers that Hydra started).
struct ShardSample {
  std::string model;
  std::string state;  // stopped | starting | ready | failed
  std::size_t rpc_servers = 0;
  uint64_t restarts = 0;
};

struct GaugeSample {
  std::size_t queue_depth = 0;
  std::vector<RpcSample> rpc_servers;
  std::vector<ShardSample> shards;
  std::size_t prefix_sequences = 0;  // prompts the prefix index holds (routing/prefix.hpp)
  double uptime_s = 0;
  std::vector<NodeSample> nodes;
  std::vector<KeySample> keys;  // empty when no API keys are configured
};

class Metrics {
public:
  Metrics();
  void http_request(std::string_view route, int status);
  void request(const RequestOutcome& r);
  // A stream whose node broke off: resumed (another node finished it), failed (none could),
  // skipped (not continuable: a tool call, a context, continuation off).
  void continuation(std::string_view outcome);
  // A served request whose prompt had a prefix key: the tokens of it the serving node held.
  void prefix(uint64_t matched_tokens) {
    ++prefix_requests_;
    if (matched_tokens > 0) ++prefix_hits_;
    prefix_tokens_ += matched_tokens;
  }
  uint64_t prefix_requests() const { return prefix_requests_; }
  uint64_t prefix_hits() const { return prefix_hits_; }
  uint64_t prefix_tokens() const { return prefix_tokens_; }
  // Adds what `part` counted (a worker thread's tally, telemetry/tally.hpp).
  void fold(const Metrics& part);
  // The text format; `gauges` are read from the fleet by the caller at scrape time.
  std::string render(const GaugeSample& gauges) const;

  using Labels = std::vector<std::string>;
  // Label sets hashed, and found by views of their values: counting a request allocates
  // nothing once its label set exists. (Rendered in sorted order.)
  struct LabelsHash {
    using is_transparent = void;
    // Short values (a model, a node, an endpoint): mixed eight bytes at a time, inline.
    template <class L>
    std::size_t operator()(const L& labels) const {
      uint64_t h = labels.size();
      for (std::string_view v : labels) {
        // Whole words, then the last eight bytes (overlapping the words before), or the
        // bytes of a value shorter than eight in one word; and the size.
        uint64_t word = 0;
        if (v.size() < 8) {
          if (!v.empty()) std::memcpy(&word, v.data(), v.size());
          h = (h ^ word) * 0x9e3779b97f4a7c15ull;
        } else {
          for (std::size_t at = 0; at + 8 <= v.size(); at += 8) {
            std::memcpy(&word, v.data() + at, 8);
            h = (h ^ word) * 0x9e3779b97f4a7c15ull;
          }
          if (v.size() % 8) {
            std::memcpy(&word, v.data() + v.size() - 8, 8);
            h = (h ^ word) * 0x9e3779b97f4a7c15ull;
          }
        }
        h = (h ^ v.size()) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 32;
      }
      return static_cast<std::size_t>(h);
    }
  };
  struct LabelsEqual {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                        [](std::string_view x, std::string_view y) { return x == y; });
    }
  };
  template <class V>
  using ByLabels = std::unordered_map<Labels, V, LabelsHash, LabelsEqual>;

private:
  ByLabels<uint64_t> http_requests_;  // route, status
  ByLabels<uint64_t> requests_;       // endpoint, model, node, outcome
  ByLabels<uint64_t> tokens_;         // model, node
  ByLabels<Histogram> ttft_;          // node
  ByLabels<Histogram> duration_;      // endpoint
  Histogram queue_wait_;
  uint64_t failovers_ = 0;
  ByLabels<uint64_t> continuations_;  // outcome
  uint64_t queued_ = 0;
  uint64_t prefix_requests_ = 0, prefix_hits_ = 0, prefix_tokens_ = 0;
};

}  // namespace hydra::telemetry
