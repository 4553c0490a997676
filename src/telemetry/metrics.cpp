#include "telemetry/metrics.hpp"

#include <fmt/format.h>
#include <array>
#include <tuple>
#include <type_traits>
#include <utility>

namespace hydra::telemetry {

namespace {

const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

// Label values escape backslash, double quote and newline.
std::string escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string label_set(const std::vector<std::string_view>& names, const std::vector<std::string>& values,
                      std::string_view extra = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", names[i], escape(values[i]));
  if (!extra.empty()) out += (out.empty() ? "" : ",") + std::string(extra);
  return out.empty() ? "" : "{" + out + "}";
}

// Prometheus prints numbers in Go's float syntax; %g-style is accepted ("+Inf" for infinity).
std::string number(double v) { return fmt::format("{}", v); }

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// A map's entries in the order of their label values.
template <class V>
std::vector<const typename Metrics::ByLabels<V>::value_type*> sorted(const Metrics::ByLabels<V>& values) {
  std::vector<const typename Metrics::ByLabels<V>::value_type*> out;
  out.reserve(values.size());
  for (const auto& entry : values) out.push_back(&entry);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->first < b->first; });
  return out;
}

void counters(std::string& out, std::string_view name, std::string_view help, const std::vector<std::string_view>& names,
              const Metrics::ByLabels<uint64_t>& values) {
  header(out, name, "counter", help);
  for (const auto* e : sorted(values)) out += fmt::format("{}{} {}\n", name, label_set(names, e->first), e->second);
}

void histogram_lines(std::string& out, std::string_view name, const std::vector<std::string_view>& names,
                     const std::vector<std::string>& labels, const Histogram& h) {
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds().size(); ++i) {
    cumulative += h.counts()[i];
    out += fmt::format("{}_bucket{} {}\n", name, label_set(names, labels, fmt::format("le=\"{}\"", number(h.bounds()[i]))),
                       cumulative);
  }
  out += fmt::format("{}_bucket{} {}\n", name, label_set(names, labels, "le=\"+Inf\""), h.count());
  out += fmt::format("{}_sum{} {}\n", name, label_set(names, labels), number(h.sum()));
  out += fmt::format("{}_count{} {}\n", name, label_set(names, labels), h.count());
}

void histograms(std::string& out, std::string_view name, std::string_view help, const std::vector<std::string_view>& names,
                const Metrics::ByLabels<Histogram>& values) {
  header(out, name, "histogram", help);
  for (const auto* e : sorted(values)) histogram_lines(out, name, names, e->first, e->second);
}

}  // namespace

void Histogram::observe(double v) {
  ++count_;
  sum_ += v;
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    if (v <= bounds_[i]) {
      ++counts_[i];
      return;
    }
}

void Histogram::add(const Histogram& other) {
  count_ += other.count_;
  sum_ += other.sum_;
  for (std::size_t i = 0; i < counts_.size() && i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
}

Metrics::Metrics() : queue_wait_(kLatencyBounds) {}

namespace {
// The entry for these label values, made on first use with `args`.
template <class V, std::size_t N, class... Args>
V& entry(Metrics::ByLabels<V>& map, const std::array<std::string_view, N>& labels, Args&&... args) {
  auto it = map.find(labels);
  if (it == map.end())
    it = map.emplace(std::piecewise_construct, std::forward_as_tuple(labels.begin(), labels.end()),
                     std::forward_as_tuple(std::forward<Args>(args)...)).first;
  return it->second;
}
}  // namespace

void Metrics::http_request(std::string_view route, int status) {
  const auto code = fmt::format_int(status);
  ++entry(http_requests_, std::array<std::string_view, 2>{route.empty() ? "unknown" : route, code.c_str()});
}

void Metrics::continuation(std::string_view outcome) { ++entry(continuations_, std::array<std::string_view, 1>{outcome}); }

void Metrics::request(const RequestOutcome& r) {
  ++entry(requests_, std::array<std::string_view, 4>{r.endpoint, r.model, r.node, r.outcome});
  if (!r.node.empty() && r.tokens) entry(tokens_, std::array<std::string_view, 2>{r.model, r.node}) += r.tokens;
  if (!r.node.empty() && r.ttft_s >= 0) entry(ttft_, std::array<std::string_view, 1>{r.node}, kLatencyBounds).observe(r.ttft_s);
  if (r.total_s >= 0) entry(duration_, std::array<std::string_view, 1>{r.endpoint}, kLatencyBounds).observe(r.total_s);
  if (r.attempts > 1) failovers_ += static_cast<uint64_t>(r.attempts - 1);
  if (r.queued) {
    ++queued_;
    queue_wait_.observe(r.queue_wait_s);
  }
}

namespace {
template <class V>
void add_all(Metrics::ByLabels<V>& into, const Metrics::ByLabels<V>& from) {
  for (const auto& [labels, value] : from) {
    auto it = into.find(labels);
    if (it == into.end()) into.emplace(labels, value);
    else if constexpr (std::is_same_v<V, Histogram>) it->second.add(value);
    else it->second += value;
  }
}
}  // namespace

void Metrics::fold(const Metrics& part) {
  add_all(http_requests_, part.http_requests_);
  add_all(requests_, part.requests_);
  add_all(tokens_, part.tokens_);
  add_all(ttft_, part.ttft_);
  add_all(duration_, part.duration_);
  queue_wait_.add(part.queue_wait_);
  failovers_ += part.failovers_;
  add_all(continuations_, part.continuations_);
  queued_ += part.queued_;
  prefix_requests_ += part.prefix_requests_;
  prefix_hits_ += part.prefix_hits_;
  prefix_tokens_ += part.prefix_tokens_;
}

std::string Metrics::render(const GaugeSample& g) const {
  std::string out;
  counters(out, "hydra_http_requests_total", "HTTP requests answered, by route and status.", {"route", "status"},
           http_requests_);
  counters(out, "hydra_requests_total",
           "Model requests by endpoint, model, serving node and outcome (served, failed, rejected, unroutable, abandoned).",
           {"endpoint", "model", "node", "outcome"}, requests_);
  histograms(out, "hydra_time_to_first_byte_seconds", "Time from sending a request to a node to its first reply byte.",
             {"node"}, ttft_);
  histograms(out, "hydra_request_duration_seconds", "Whole model requests, from arrival to the end of the reply.",
             {"endpoint"}, duration_);
  counters(out, "hydra_tokens_generated_total", "Tokens the nodes reported generating (eval_count).", {"model", "node"},
           tokens_);

  header(out, "hydra_queue_depth", "gauge", "Requests waiting in the admission queue for a free slot.");
  out += fmt::format("hydra_queue_depth {}\n", g.queue_depth);
  header(out, "hydra_queue_wait_seconds", "histogram", "Time queued requests waited for a slot.");
  histogram_lines(out, "hydra_queue_wait_seconds", {}, {}, queue_wait_);
  header(out, "hydra_failovers_total", "counter", "Attempts moved to another node after a node failed (before replying, or mid-stream: see hydra_continuations_total).");
  out += fmt::format("hydra_failovers_total {}\n", failovers_);
  header(out, "hydra_continuations_total", "counter",
         "Streams whose node broke off mid-reply, once per stream: resumed (finished on other nodes), failed (no node could), skipped (not continuable).");
  for (const char* outcome : {"resumed", "failed", "skipped"}) {
    auto it = continuations_.find({outcome});
    out += fmt::format("hydra_continuations_total{{outcome=\"{}\"}} {}\n", outcome, it == continuations_.end() ? 0 : it->second);
  }

  header(out, "hydra_prefix_tokens_matched_total", "counter",
         "Prompt tokens (estimated, 4 bytes each) the serving node already held in its KV cache, as the prefix index expected.");
  out += fmt::format("hydra_prefix_tokens_matched_total {}\n", prefix_tokens_);
  header(out, "hydra_prefix_requests_total", "counter",
         "Served requests long enough for prefix routing, by whether the serving node held part of the prompt.");
  out += fmt::format("hydra_prefix_requests_total{{result=\"hit\"}} {}\n", prefix_hits_);
  out += fmt::format("hydra_prefix_requests_total{{result=\"miss\"}} {}\n", prefix_requests_ - prefix_hits_);
  header(out, "hydra_prefix_hit_ratio", "gauge", "Of those requests, the share served where part of the prompt was cached.");
  out += fmt::format("hydra_prefix_hit_ratio {}\n",
                     prefix_requests_ ? static_cast<double>(prefix_hits_) / static_cast<double>(prefix_requests_) : 0.0);
  header(out, "hydra_prefix_index_sequences", "gauge", "Prompts the prefix index holds (at most the nodes' slots per model).");
  out += fmt::format("hydra_prefix_index_sequences {}\n", g.prefix_sequences);

  header(out, "hydra_node_up", "gauge", "1 when the node is healthy and routable.");
  for (const auto& n : g.nodes) out += fmt::format("hydra_node_up{{node=\"{}\"}} {}\n", escape(n.id), n.up ? 1 : 0);
  header(out, "hydra_node_in_flight", "gauge", "Requests the gateway has in flight on the node.");
  for (const auto& n : g.nodes) out += fmt::format("hydra_node_in_flight{{node=\"{}\"}} {}\n", escape(n.id), n.in_flight);
  header(out, "hydra_node_ejections_total", "counter", "Times the node was ejected after consecutive failures.");
  for (const auto& n : g.nodes) out += fmt::format("hydra_node_ejections_total{{node=\"{}\"}} {}\n", escape(n.id), n.ejections);
  std::map<std::string, int> by_source{{"configured", 0}, {"registered", 0}, {"discovered", 0}};
  for (const auto& n : g.nodes) ++by_source[n.source];
  header(out, "hydra_nodes", "gauge", "Nodes known, by how they were found (discovered: by subnet scans).");
  for (const auto& [source, count] : by_source) out += fmt::format("hydra_nodes{{source=\"{}\"}} {}\n", escape(source), count);
  std::map<std::string, int> rpc_by_state{{"ready", 0}, {"busy", 0}, {"down", 0}, {"incompatible", 0}, {"unknown", 0}};
  for (const auto& r : g.rpc_servers) ++rpc_by_state[r.state];
  header(out, "hydra_rpc_servers", "gauge", "llama.cpp rpc-servers known (configured or discovered), by their last probe.");
  for (const auto& [state, count] : rpc_by_state) out += fmt::format("hydra_rpc_servers{{state=\"{}\"}} {}\n", escape(state), count);
  header(out, "hydra_rpc_server_free_bytes", "gauge", "Free memory of an rpc-server's devices at its last probe.");
  for (const auto& r : g.rpc_servers) out += fmt::format("hydra_rpc_server_free_bytes{{server=\"{}\"}} {}\n", escape(r.address), r.free_bytes);
  header(out, "hydra_rpc_server_total_bytes", "gauge", "Total memory of an rpc-server's devices.");
  for (const auto& r : g.rpc_servers) out += fmt::format("hydra_rpc_server_total_bytes{{server=\"{}\"}} {}\n", escape(r.address), r.total_bytes);
  header(out, "hydra_rpc_server_in_use", "gauge", "1 while a coordinator Hydra started is attached to the rpc-server.");
  for (const auto& r : g.rpc_servers) out += fmt::format("hydra_rpc_server_in_use{{server=\"{}\"}} {}\n", escape(r.address), r.in_use ? 1 : 0);
  header(out, "hydra_shard_coordinator_up", "gauge", "1 while a sharded model's coordinator is ready.");
  for (const auto& c : g.shards) out += fmt::format("hydra_shard_coordinator_up{{model=\"{}\"}} {}\n", escape(c.model), c.state == "ready" ? 1 : 0);
  header(out, "hydra_shard_coordinator_rpc_servers", "gauge", "rpc-servers a sharded model's coordinator runs over.");
  for (const auto& c : g.shards) out += fmt::format("hydra_shard_coordinator_rpc_servers{{model=\"{}\"}} {}\n", escape(c.model), c.rpc_servers);
  header(out, "hydra_shard_coordinator_restarts_total", "counter", "Times a sharded model's coordinator was started again after it ended.");
  for (const auto& c : g.shards) out += fmt::format("hydra_shard_coordinator_restarts_total{{model=\"{}\"}} {}\n", escape(c.model), c.restarts);

  if (!g.keys.empty()) {
    header(out, "hydra_key_requests_total", "counter", "Requests admitted per API key (model requests, /generate, /orchestrate).");
    for (const auto& k : g.keys) out += fmt::format("hydra_key_requests_total{{key=\"{}\"}} {}\n", escape(k.name), k.requests);
    header(out, "hydra_key_tokens_total", "counter", "Tokens generated for each API key (eval_count).");
    for (const auto& k : g.keys) out += fmt::format("hydra_key_tokens_total{{key=\"{}\"}} {}\n", escape(k.name), k.tokens);
    header(out, "hydra_key_in_progress", "gauge", "Requests in progress per API key.");
    for (const auto& k : g.keys) out += fmt::format("hydra_key_in_progress{{key=\"{}\"}} {}\n", escape(k.name), k.in_progress);
    header(out, "hydra_key_refusals_total", "counter",
           "Requests refused, by key and reason (missing_key, unknown_key, not_admin, model, rpm, tpm, concurrency).");
    for (const auto& k : g.keys)
      for (const auto& [reason, count] : k.refused)
        out += fmt::format("hydra_key_refusals_total{{key=\"{}\",reason=\"{}\"}} {}\n", escape(k.name), escape(reason), count);
  }
  header(out, "hydra_uptime_seconds", "gauge", "Seconds since the gateway started.");
  out += fmt::format("hydra_uptime_seconds {}\n", number(g.uptime_s));
  return out;
}

}  // namespace hydra::telemetry
