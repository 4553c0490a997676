#!/usr/bin/env bash
# Proves bench/loadgen works end to end (ctest bench.loadgen_smoke): about a second of closed-
# and open-loop load, streamed and not, against one `hydra sim` on loopback. Asserts only that
# requests succeed and the report has its figures, never a speed.
set -euo pipefail
hydra=$1 loadgen=$2
dir=$(mktemp -d)
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

"$hydra" sim --listen 127.0.0.1:0 --tokens-per-second 200 --load-seconds 0 --loaded llama3.2:3b >"$dir/sim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$dir/sim.out" && break; sleep 0.05; done
url=$(grep -o 'http://[0-9.:]*' "$dir/sim.out" | head -1)
[ -n "$url" ] || { cat "$dir/sim.out"; exit 1; }

check() {  # report file, minimum chunks per ok request
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] > 0 and r["errors"]["total"] == 0, r
assert r["latency_ms"]["count"] == r["ok"] and r["latency_ms"]["p50"] > 0, r
assert r["chunks"] >= r["ok"] * int(sys.argv[2]), r
PY
}
body='{"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":2}}'
"$loadgen" --target "$url/api/generate" --body "$body" --mode closed --concurrency 4 --duration 0.5 --out "$dir/closed.json"
check "$dir/closed.json" 1
sbody='{"model":"llama3.2:3b","prompt":"hi","options":{"num_predict":4}}'
"$loadgen" --target "$url/api/generate" --body "$sbody" --stream --mode open --rate 20 --concurrency 8 \
  --duration 0.5 --timeline-ms 250 --out "$dir/open.json" --records "$dir/open.tsv"
check "$dir/open.json" 4
python3 - "$dir/open.json" "$dir/open.tsv" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["gap_ms"]["count"] > 0 and r["timeline"], r
assert r["ttfc_ms"]["p50"] <= r["ttfc_ms"]["p95"] <= r["ttfc_ms"]["p99"], r
rows = [line.split("\t") for line in open(sys.argv[2])]
assert len(rows) == r["requests"], (len(rows), r["requests"])
for due, ok, ttfc, latency in rows:  # due on the wall clock, at or after the run's start
    assert float(due) >= r["started_unix_ms"] and ok == "1" and 0 < float(ttfc) <= float(latency), rows
PY
echo "loadgen smoke: ok"
