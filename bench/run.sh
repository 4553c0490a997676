#!/usr/bin/env bash
# `make bench`: runs the benchmarks and writes bench/RESULTS.md with the machine they ran on.
# Benchmarks are measurements, never pass/fail tests. (The end-to-end scenarios of issue #8 —
# direct vs Hydra vs nginx, streaming, failover, routing quality — are not built yet.)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
out=bench/RESULTS.md
json=$(mktemp)
trap 'rm -f "$json"' EXIT

cmd=("$BUILD_DIR/bench/routing_bench" --benchmark_min_time=0.5 --benchmark_repetitions=5
     --benchmark_report_aggregates_only=true --benchmark_format=json)
echo "bench: routing decision cost (about 20 s)"
"${cmd[@]}" > "$json"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
{
  echo "# Benchmark results"
  echo
  echo "Written by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo "Machine: $(nproc) cores, ${cpu:-unknown CPU}, $mem memory, $(uname -sr)."
  echo
  echo "## Routing decision (issue #4)"
  echo
  echo "One call of \`routing::route()\` (filters, scorers, ranking, reason text) on an indexed"
  echo "snapshot of a heterogeneous fleet where every node has the model and a third hold it in"
  echo "memory. Above 32 holders a random sample (8 resident + 8 other) is scored. Median of 5"
  echo "repetitions of at least 0.5 s each."
  echo
  echo "Command: \`${cmd[*]}\`"
  echo
  echo "| nodes | median time per decision |"
  echo "| ---: | ---: |"
  python3 - "$json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for b in data["benchmarks"]:
    if b.get("aggregate_name") != "median" or not b["run_name"].startswith("BM_RouteDecision/"):
        continue
    print(f"| {b['run_name'].split('/')[1]} | {b['real_time']:.2f} {b['time_unit']} |")
PY
  echo
  echo "Aim (issue #4): under 2 microseconds at 1000 nodes."
} > "$out"
echo "bench: wrote $out"
