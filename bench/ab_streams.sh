#!/usr/bin/env bash
# A/B of two gateway binaries at many concurrent streams, back to back on the same machine:
#   bench/ab_streams.sh OLD_HYDRA NEW_HYDRA [ROUNDS]
# Each round runs both, OLD first in odd rounds and NEW first in even ones (neither always runs
# just after the other has left some 20,000 connections in TIME_WAIT), each as `hydra serve` in
# front of fresh sims (build/hydra sim)
# with bench/loadgen keeping N NDJSON streams open (as scenario 2 of bench/run.sh does), and
# prints per run: TTFC p50/p99, the gap between chunks at p99, the gateway's CPU ticks over the
# run, and the TCP connections
# opened on the machine meanwhile (the load generator's own N included: more means the gateway
# opened node connections anew). Environment: N (9900), THREADS (gateway threads, 2),
# TPS (tokens/s per stream, 1), TOKENS (4). Loopback only; everything it starts is stopped.
set -u
cd "$(dirname "$0")/.." || exit 1
old=${1:?usage: bench/ab_streams.sh OLD_HYDRA NEW_HYDRA [ROUNDS]}
new=${2:?usage: bench/ab_streams.sh OLD_HYDRA NEW_HYDRA [ROUNDS]}
rounds=${3:-2}
N=${N:-9900} THREADS=${THREADS:-2} TPS=${TPS:-1} TOKENS=${TOKENS:-4}
SIM=build/hydra LOADGEN=build/bench/loadgen
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() {  # FILE PATTERN SECONDS
  local deadline=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { echo "ab_streams: no '$2' in $1" >&2; exit 1; }
    sleep 0.05
  done
}
tcp_opens() { awk '/^Tcp:/ && $6 ~ /^[0-9]+$/ {print $6}' /proc/net/snmp; }

one_run() {  # LABEL BINARY
  local dir=$work/$1.$round nodes=$(( (N + 1023) / 1024 + 1 ))
  mkdir -p "$dir"
  "$SIM" sim --listen 127.0.0.1:0 --nodes "$nodes" --load-seconds 0 --tokens-per-second "$TPS" --parallel 1024 \
    --max-queue 20000 --loaded llama3.2:3b >"$dir/sims.log" 2>&1 &
  local sims=$! args=() u
  pids+=("$sims")
  local deadline=$((SECONDS + 20))
  until [ "$(grep -o 'http://127[0-9.:]*' "$dir/sims.log" | sort -u | wc -l)" -ge "$nodes" ]; do
    [ $SECONDS -lt $deadline ] || { echo "ab_streams: sims did not start" >&2; exit 1; }
    sleep 0.05
  done
  while read -r u; do args+=(--node "$u#slots=1024"); done < <(grep -o 'http://127[0-9.:]*' "$dir/sims.log" | sort -u)
  HYDRA_THREADS=$THREADS HYDRA_DASHBOARD=false "$2" serve --no-discovery --listen 127.0.0.1:0 --data-dir "$dir/data" \
    "${args[@]}" >"$dir/gateway.log" 2>&1 &
  local gw=$!
  pids+=("$gw")
  wait_for "$dir/gateway.log" 'nodes reachable' 20 "$gw"
  local url ticks0 opens0
  url=$(grep -o 'Ollama API on http://[0-9.:]*' "$dir/gateway.log" | sed 's/Ollama API on //')
  ticks0=$(awk '{print $14 + $15}' "/proc/$gw/stat")
  opens0=$(tcp_opens)
  "$LOADGEN" --target "$url/api/generate" --stream --mode closed --concurrency "$N" --ramp 8 --warmup 8 --duration 8 \
    --timeout 60 --source 127.0.0.2-127.0.0.33 --out "$dir/report.json" \
    --body "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\",\"options\":{\"num_predict\":$TOKENS}}" >"$dir/loadgen.log" 2>&1
  local ticks=$(( $(awk '{print $14 + $15}' "/proc/$gw/stat") - ticks0 )) opens=$(( $(tcp_opens) - opens0 ))
  kill "$gw" "$sims" 2>/dev/null
  wait "$gw" "$sims" 2>/dev/null
  python3 - "$dir/report.json" "$1" "$ticks" "$opens" "$(grep -c 'out of file descriptors' "$dir/gateway.log")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t, g = r["ttfc_ms"], r["gap_ms"]
print(f"{sys.argv[2]:>4}  ttfc p50 {t['p50']:8.2f} ms  p99 {t['p99']:8.2f} ms  gap p99 {g['p99']:8.2f} ms  "
      f"errors {r['errors']['total']:>3}  "
      f"gateway CPU ticks {sys.argv[3]:>5}  TCP opens {sys.argv[4]:>6}  EMFILE warnings {sys.argv[5]}")
PY
}

echo "ab_streams: $N streams, gateway at $THREADS threads, $rounds rounds (old: $old; new: $new)"
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) = 1 ]; then
    one_run old "$old"
    one_run new "$new"
  else
    one_run new "$new"
    one_run old "$old"
  fi
done
