#include "report.hpp"

#include "percentiles.hpp"

#include <algorithm>
#include <cmath>

namespace loadgen {

namespace json = boost::json;

namespace {

double ms(double ns) { return std::round(ns / 1e3) / 1e3; }  // microsecond precision

json::object summary(std::vector<int64_t>& samples) {
  Summary s = summarize(samples);
  json::object o;
  o["count"] = s.count;
  o["p50"] = ms(static_cast<double>(s.p50));
  o["p90"] = ms(static_cast<double>(s.p90));
  o["p95"] = ms(static_cast<double>(s.p95));
  o["p99"] = ms(static_cast<double>(s.p99));
  o["max"] = ms(static_cast<double>(s.max));
  o["mean"] = ms(s.mean);
  return o;
}

// Requests grouped by due time: how a disturbance (a node killed) shows up over the run.
json::array timeline(const std::vector<Record>& records, Nanos bucket, Nanos warmup) {
  json::array out;
  if (bucket.count() <= 0 || records.empty()) return out;
  int64_t last = 0;
  for (const auto& r : records) last = std::max(last, r.due);
  auto buckets = static_cast<std::size_t>((last - warmup.count()) / bucket.count() + 1);
  std::vector<std::vector<int64_t>> latency(buckets);
  std::vector<uint64_t> errors(buckets);
  for (const auto& r : records) {
    auto i = static_cast<std::size_t>((r.due - warmup.count()) / bucket.count());
    if (r.ok) latency[i].push_back(r.end - r.due);
    else ++errors[i];
  }
  for (std::size_t i = 0; i < buckets; ++i) {
    json::object b;
    b["t_s"] = static_cast<double>(warmup.count() + static_cast<int64_t>(i) * bucket.count()) / 1e9;
    b["ok"] = latency[i].size();
    b["errors"] = errors[i];
    b["p50_ms"] = ms(static_cast<double>(percentile(latency[i], 50)));
    b["max_ms"] = latency[i].empty() ? 0.0 : ms(static_cast<double>(*std::max_element(latency[i].begin(), latency[i].end())));
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

json::object report(const Options& o, Results& r) {
  json::object out;
  out["mode"] = o.open_loop ? "open" : "closed";
  if (o.open_loop) out["rate"] = o.rate;
  out["concurrency"] = o.concurrency;
  out["stream"] = o.stream;
  out["duration_s"] = std::chrono::duration<double>(o.duration).count();
  out["warmup_s"] = std::chrono::duration<double>(o.warmup).count();
  out["elapsed_s"] = r.elapsed_s;
  out["started_unix_ms"] = r.started_unix_ms;
  json::array targets;
  for (const auto& t : o.targets) targets.push_back(json::string("http://" + t.host + ":" + std::to_string(t.port) + t.path));
  out["targets"] = std::move(targets);
  out["requests"] = r.sent;
  out["ok"] = r.ok;
  json::object errors;
  uint64_t total = 0;
  for (const auto& [kind, n] : r.errors) {
    errors[kind] = n;
    total += n;
  }
  errors["total"] = total;
  out["errors"] = std::move(errors);
  double window = std::chrono::duration<double>(o.duration).count();
  out["throughput_rps"] = window > 0 ? static_cast<double>(r.ok_in_window) / window : 0.0;
  out["chunks"] = r.chunks;
  out["latency_ms"] = summary(r.latency);
  out["ttfc_ms"] = summary(r.ttfc);
  out["gap_ms"] = summary(r.gaps);
  out["continued"] = r.switch_gaps.size();
  out["switch_gap_ms"] = summary(r.switch_gaps);
  if (o.timeline_bucket.count() > 0) out["timeline"] = timeline(r.records, o.timeline_bucket, o.warmup);
  return out;
}

}  // namespace loadgen
