#!/usr/bin/env bash
# `make bench`: runs every benchmark scenario, each bounded in time (a few minutes in all), and
# writes bench/RESULTS.md with the machine they ran on. Benchmarks are measurements, never
# pass/fail tests. Everything runs on loopback; every process started is stopped on exit.
#
# Scenarios (BENCH_SCENARIOS picks a subset): routing (decision cost, and publishing a snapshot
# after one node changed; Google Benchmark), overhead (direct vs Hydra vs nginx at 1 and 2
# threads/workers, then allocations per proxied request under a counting LD_PRELOAD shim),
# streaming (1,000 and 10,000 streams: direct vs Hydra vs nginx), failover (a node killed under load), quality (Hydra's
# policy vs round robin vs least connections on a mixed fleet; then one busy model on the demo
# fleet, with and without configured capacities), discovery (40 sims found on a /26), flood
# (ordinary requests beside 5,000 made-up model names), cache (hit latency per tier, and a
# workload where half the questions repeat), gateways (one gateway, one with Redis, three sharing
# Redis, behind nginx; then one of the three killed under load), conversations (multi-turn chats
# with long shared prompts on sims that keep a prompt cache per slot: Hydra's policy with and
# without its prefix scorer vs least connections vs round robin). Sizes are the variables below.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$PWD/$BUILD_DIR ;; esac
HYDRA=$BUILD_DIR/hydra
LOADGEN=$BUILD_DIR/bench/loadgen
SCENARIOS=${BENCH_SCENARIOS:-routing overhead streaming failover quality discovery flood cache gateways conversations}
OUT=${BENCH_OUT:-bench/RESULTS.md}

ROUTING_MIN_TIME=${ROUTING_MIN_TIME:-0.5}  # seconds per repetition of each routing benchmark
ROUTING_REPS=${ROUTING_REPS:-5}
OVH_CONC=${OVH_CONC:-8}             # latency: requests in flight
OVH_MAX_CONC=${OVH_MAX_CONC:-64}    # throughput: enough in flight to saturate
OVH_SECONDS=${OVH_SECONDS:-4}
OVH_ROUNDS=${OVH_ROUNDS:-3}         # each target measured in turn, this many times over (medians reported)
OVH_THREADS=${OVH_THREADS:-1 2}     # Hydra's HYDRA_THREADS, and nginx's worker_processes beside it
ALLOC_SECONDS=${ALLOC_SECONDS:-2}   # allocations per request: each counted loadgen run (and the idle window)
ALLOC_THREADS=${ALLOC_THREADS:-1}   # ... with Hydra at this many threads
STREAM_SMALL=${STREAM_SMALL:-1000}
STREAM_BIG=${STREAM_BIG:-10000}
STREAM_TPS=${STREAM_TPS:-1}         # tokens (chunks) per second per stream: 10,000 chunks/s at 10,000 streams
STREAM_TOKENS=${STREAM_TOKENS:-4}   # chunks per stream: 4 s streams
STREAM_RAMP=${STREAM_RAMP:-8}       # seconds over which the streams are opened
STREAM_WARMUP=${STREAM_WARMUP:-8}   # streams begun before this are not recorded
STREAM_SECONDS=${STREAM_SECONDS:-8}
STREAM_SOURCES=${STREAM_SOURCES:-127.0.0.2-127.0.0.33}  # client addresses: ephemeral ports never run short
STREAM_THREADS=${STREAM_THREADS:-}   # Hydra's threads for streaming; empty: its default (one per core)
FO_RATE=${FO_RATE:-100}           # failover: streamed requests per second (0.5 s each)
FO_SECONDS=${FO_SECONDS:-10}
FO_KILL_AT=${FO_KILL_AT:-4}         # seconds into the run the second node is killed
FO_TIMEOUT=${FO_TIMEOUT:-5}         # failover: a request unanswered this long has failed
QUALITY_MIX=${QUALITY_MIX:-llama3.2:3b=10 qwen2.5:7b=8 gemma2:9b=6}  # model=requests/s, streamed, open loop
QUALITY_SECONDS=${QUALITY_SECONDS:-20}
QUALITY_TOKENS=${QUALITY_TOKENS:-32}  # tokens per reply
QUALITY_TIMEOUT=${QUALITY_TIMEOUT:-20} # a request unanswered this long has failed
QUALITY_LOAD_S=${QUALITY_LOAD_S:-3}   # a cold model load on a sim
QUALITY_POLICIES=${QUALITY_POLICIES:-scored round_robin least_connections}
BUSY_CONC=${BUSY_CONC:-8}           # quality, busy model: clients asking for llama3.2:3b at once (closed loop)
BUSY_SECONDS=${BUSY_SECONDS:-20}
BUSY_TOKENS=${BUSY_TOKENS:-48}      # tokens per reply (gpu-small: 1.2 s, gpu-big: 0.8 s)
BUSY_LOAD_S=${BUSY_LOAD_S:-2}       # a cold load on a sim (the sim's default, as in `make demo`)
FLOOD_N=${FLOOD_N:-5000}            # flood: made-up model names, each requested once
FLOOD_RATE=${FLOOD_RATE:-1000}      # ... per second (open loop)
FLOOD_CONC=${FLOOD_CONC:-8}         # ordinary requests in flight beside it
FLOOD_SECONDS=${FLOOD_SECONDS:-4}
CACHE_SECONDS=${CACHE_SECONDS:-3}           # cache: each measured run
CACHE_FILL_SECONDS=${CACHE_FILL_SECONDS:-3} # ... storing distinct answers before a restart (L2, L3)
CACHE_RATE=${CACHE_RATE:-300}               # ... then asking them again, open loop (fewer than were stored)
GW_CONC=${GW_CONC:-8}               # gateways: latency at this many in flight (closed loop)
GW_MAX_CONC=${GW_MAX_CONC:-64}      # ... throughput at this many
GW_SECONDS=${GW_SECONDS:-2.5}       # ... each measured run, after GW_WARMUP s unrecorded
GW_WARMUP=${GW_WARMUP:-0.5}
GW_IDLE_S=${GW_IDLE_S:-1}           # ... the gateways' idle Redis commands counted over this long
GW_FO_RATE=${GW_FO_RATE:-100}       # ... a gateway killed: streamed requests per second (0.5 s each)
GW_FO_SECONDS=${GW_FO_SECONDS:-8}
GW_FO_KILL_AT=${GW_FO_KILL_AT:-2}   # ... seconds into that run one of the three is SIGKILLed
GW_FO_TIMEOUT=${GW_FO_TIMEOUT:-5}   # ... a request unanswered this long has failed
GW_LEASE_TTL_S=${GW_LEASE_TTL_S:-10} # ... HYDRA_LEASE_TTL_S of the gateways with Redis (10: Hydra's default)
CONV_POLICIES=${CONV_POLICIES:-scored scored_noprefix least_connections round_robin}  # scored_noprefix: HYDRA_ROUTING_PREFIX_WEIGHT=0
CONV_CONVERSATIONS=${CONV_CONVERSATIONS:-32}  # conversations: chats, each on its own thread
CONV_TURNS=${CONV_TURNS:-6}                   # ... turns per chat
CONV_SYSTEM_WORDS=${CONV_SYSTEM_WORDS:-1000}  # ... the system prompt every chat shares (the sims count a word as a token)
CONV_DOC_MIN=${CONV_DOC_MIN:-2000}            # ... each chat's document, words (seeded, uniform between)
CONV_DOC_MAX=${CONV_DOC_MAX:-8000}
CONV_THINK_MIN=${CONV_THINK_MIN:-1}           # ... seconds between a reply and the next question (seeded, uniform)
CONV_THINK_MAX=${CONV_THINK_MAX:-3}
CONV_SPREAD=${CONV_SPREAD:-10}                # ... chats begin over this many seconds (open loop)
CONV_TOKENS=${CONV_TOKENS:-32}                # ... tokens per reply (num_predict)
CONV_SEED=${CONV_SEED:-1}                     # ... texts, arrivals and think times
CONV_TIMEOUT=${CONV_TIMEOUT:-60}              # ... a turn unanswered (whole) this long has failed
CONV_DEADLINE=${CONV_DEADLINE:-120}           # ... no turn starts this long after the run began
CONV_MODEL=${CONV_MODEL:-llama3.2:3b}

for f in "$HYDRA" "$LOADGEN"; do
  [ -x "$f" ] || { echo "bench: $f is missing; run 'make bench' (it builds first)" >&2; exit 1; }
done
command -v nginx >/dev/null || echo "bench: nginx is missing (make deps installs it); its rows will be skipped" >&2

WORK=$(mktemp -d /tmp/hydra-bench.XXXXXX)
source bench/lib.sh
for s in bench/scenarios/*.sh; do source "$s"; done
# BENCH_KEEP=1 keeps the raw reports and logs (printed path) for a closer look.
trap 'bench_cleanup; if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: raw data in $WORK"; else rm -rf "$WORK"; fi' EXIT
trap 'exit 130' INT TERM

# 10,000 streams need about 20,000 sockets in the gateway; take what the hard limit allows.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fact machine.load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
fact machine.fd_limit "$(ulimit -n)"
fact hydra.version "$("$HYDRA" --version 2>/dev/null | head -1)"
started=$SECONDS

routing() {
  echo "bench: routing decision cost and snapshot publishing (about 35 s)"
  local cmd=("$BUILD_DIR/bench/routing_bench" --benchmark_min_time="$ROUTING_MIN_TIME" --benchmark_repetitions="$ROUTING_REPS"
             --benchmark_report_aggregates_only=true --benchmark_format=json)
  printf '%s\t%s\n' routing "${cmd[*]}" >>"$WORK/commands.tsv"
  "${cmd[@]}" >"$WORK/routing.json"
}

for s in $SCENARIOS; do
  "$s"
  bench_cleanup
done
fact machine.load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
fact bench.seconds "$((SECONDS - started))"
python3 bench/report.py "$WORK" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "bench: wrote $OUT ($((SECONDS - started)) s)"
