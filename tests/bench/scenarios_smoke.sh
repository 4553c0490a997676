#!/usr/bin/env bash
# Runs every `make bench` scenario once at toy size (ctest bench.scenarios_smoke), proving the
# scripts, the servers they start and the report all work. Asserts only that each section of
# the report was written, never a speed or a ratio.
set -euo pipefail
root=$1 build=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cd "$root"
BUILD_DIR=$build BENCH_OUT=$out ROUTING_MIN_TIME=0.01 ROUTING_REPS=2 \
  OVH_SECONDS=0.3 OVH_MAX_CONC=8 OVH_THREADS="1 2" ALLOC_SECONDS=0.3 \
  STREAM_SMALL=20 STREAM_BIG=40 STREAM_TPS=20 STREAM_RAMP=0.2 STREAM_WARMUP=0.3 STREAM_SECONDS=0.5 \
  FO_RATE=20 FO_SECONDS=2 FO_KILL_AT=1 FO_TIMEOUT=3 \
  QUALITY_MIX="llama3.2:3b=4 qwen2.5:7b=3 gemma2:9b=2" QUALITY_SECONDS=1 QUALITY_TIMEOUT=5 QUALITY_LOAD_S=0.2 \
  BUSY_SECONDS=1 BUSY_LOAD_S=0.2 \
  FLOOD_N=50 FLOOD_RATE=100 FLOOD_SECONDS=0.5 \
  CACHE_SECONDS=0.5 CACHE_FILL_SECONDS=0.5 CACHE_RATE=20 \
  GW_SECONDS=0.3 GW_WARMUP=0.1 GW_IDLE_S=0.3 GW_FO_RATE=20 GW_FO_SECONDS=2 GW_FO_KILL_AT=1 GW_LEASE_TTL_S=1 \
  CONV_CONVERSATIONS=4 CONV_TURNS=2 CONV_SYSTEM_WORDS=50 CONV_DOC_MIN=100 CONV_DOC_MAX=200 CONV_SPREAD=0.5 \
  CONV_THINK_MIN=0.1 CONV_THINK_MAX=0.2 CONV_TIMEOUT=10 CONV_DEADLINE=10 \
  bash bench/run.sh </dev/null
for section in "## Headline" "## 1. Overhead" "## 2. Streaming" "## 3. Routing decision" "## 4. Failover" \
               "## 5. Routing quality" "### 5b. A busy model" "## 6. Discovery" "## 7. Flood" "## 8. Response cache" \
               "## 9. Several gateways" "## 10. Conversations" "## Exact commands"; do
  grep -qF "$section" "$out" || { echo "bench smoke: '$section' missing from the report"; cat "$out"; exit 1; }
done
# Scenario 1 has Hydra's rows at 1 and 2 threads, and the allocations (or why not).
for t in 1 2; do
  grep -q "^| hydra | $t | " "$out" || { echo "bench smoke: no overhead row for hydra at $t thread(s)"; exit 1; }
done
grep -q "Allocations per proxied request" "$out" || { echo "bench smoke: no allocations per request"; exit 1; }
# With nginx present: how each proxy's CPU time was shared among its threads at 2.
if command -v nginx >/dev/null; then
  grep -q "shared among its threads.*Hydra at 2: [0-9]" "$out" || { echo "bench smoke: no threads' shares"; exit 1; }
fi
# Every policy of scenario 5 has its row.
for policy in scored round_robin least_connections; do
  grep -q "^| $policy | " "$out" || { echo "bench smoke: no row for $policy"; exit 1; }
done
# The busy-model case ran with and without configured capacities.
for capacity in configured none; do
  grep -q "^| $capacity | " "$out" || { echo "bench smoke: no busy-model row for $capacity"; exit 1; }
done
# Scenario 9 (with nginx and redis-server present): the three setups' rows and the gateway killed.
if command -v nginx >/dev/null && command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  for row in "nginx → 1 gateway, no Redis" "nginx → 1 gateway with Redis" "nginx → 3 gateways sharing one Redis"; do
    grep -qF "| $row |" "$out" || { echo "bench smoke: no gateways row '$row'"; exit 1; }
  done
  grep -qF "### 9b. One of three gateways killed" "$out" || { echo "bench smoke: no gateway-killed run"; exit 1; }
fi
# Scenario 10: every policy's row.
for label in "Hydra's policy (prefix scorer on" "Hydra's policy, \`HYDRA_ROUTING_PREFIX_WEIGHT=0\`" "least connections" "round robin"; do
  grep -qF "| $label" "$out" || { echo "bench smoke: no conversations row '$label'"; exit 1; }
done
echo "bench scenarios smoke: ok"
