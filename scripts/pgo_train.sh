#!/usr/bin/env bash
# The training run of profile-guided optimisation (`make profile`, cmake/pgo.cmake): an
# instrumented `hydra serve` serves the requests a gateway spends its time on (Ollama and
# OpenAI, streamed and not, on two threads) in front of `hydra sim` nodes of an ordinary build,
# then stops cleanly, which writes its counts (.gcda files) where the instrumented build said.
# Usage: scripts/pgo_train.sh INSTRUMENTED_HYDRA HYDRA LOADGEN
set -euo pipefail
HYDRA=$1
SIM_HYDRA=$2
LOADGEN=$3
SECONDS_EACH=${PGO_SECONDS:-3}
W=$(mktemp -d /tmp/hydra-pgo.XXXXXX)
SIM_PID="" GW_PID=""

stop() {  # stop PID: SIGTERM, then its exit status (the counts are written at a clean exit); KILL after 30 s
  local pid=$1 rc=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}
show_logs() { for f in "$W"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done; }
cleanup() {
  local rc=$?
  [ "$rc" -eq 0 ] || show_logs
  stop "$GW_PID" || true
  stop "$SIM_PID" || true
  rm -rf "$W"
}
trap cleanup EXIT

wait_for() {  # wait_for FILE PATTERN PID: until the log shows it, while PID lives, 60 s at most
  for _ in $(seq 600); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  echo "pgo_train: $1 never showed '$2'" >&2
  exit 1
}
# Only loopback and these settings: none of the caller's HYDRA_* variables or config file.
clean_env=(env -i "PATH=$PATH" "HOME=${HOME:-/tmp}")

"${clean_env[@]}" "$SIM_HYDRA" sim --listen 127.0.0.1:0 --nodes 2 --load-seconds 0 --tokens-per-second 5000 \
  --parallel 256 --loaded llama3.2:3b >"$W/sims.log" 2>&1 &
SIM_PID=$!
sims() { grep -o 'http://127[0-9.:]*' "$W/sims.log" | sort -u; }
for _ in $(seq 600); do [ "$(sims | wc -l)" -ge 2 ] && break; kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
[ "$(sims | wc -l)" -ge 2 ] || { echo "pgo_train: the sims did not start" >&2; exit 1; }
args=(serve --no-discovery --listen 127.0.0.1:0 --data-dir "$W/data")
for url in $(sims); do args+=(--node "$url#slots=256"); done
"${clean_env[@]}" HYDRA_DASHBOARD=false HYDRA_THREADS=2 HYDRA_SHUTDOWN_GRACE=5 "$HYDRA" "${args[@]}" >"$W/gateway.log" 2>&1 &
GW_PID=$!
wait_for "$W/gateway.log" 'nodes reachable' "$GW_PID"
GW=$(grep -o 'Ollama API on http://[0-9.:]*' "$W/gateway.log" | sed 's/Ollama API on //')

load() {  # load PATH BODY [loadgen flags...]
  local path=$1 body=$2
  shift 2
  "$LOADGEN" --target "$GW$path" --body "$body" --mode closed --concurrency 32 --warmup 0 \
    --duration "$SECONDS_EACH" --out "$W/run.json" "$@" 2>>"$W/loadgen.log"
  python3 - "$W/run.json" "$path" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"pgo_train: {sys.argv[2]}: {r['ok']} replies, {r['errors']['total']} errors")
if r['ok'] == 0:
    sys.exit("pgo_train: no reply succeeded; the profile would not be of the data path")
PY
}
load /api/generate '{"model":"llama3.2:3b","prompt":"hi {seq}","stream":false,"options":{"num_predict":1}}'
load /api/chat '{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi {seq}"}],"stream":false,"options":{"num_predict":2}}'
load /api/generate '{"model":"llama3.2:3b","prompt":"tell {seq}","options":{"num_predict":8}}' --stream
load /api/chat '{"model":"llama3.2:3b","messages":[{"role":"user","content":"tell {seq}"}],"options":{"num_predict":8}}' --stream
load /v1/chat/completions '{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi {seq}"}],"max_tokens":4}'
load /v1/chat/completions '{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi {seq}"}],"max_tokens":8,"stream":true}'
load /api/tags '' --method GET
# The counts are written as the instrumented gateway exits: a clean exit, or no profile.
pid=$GW_PID
GW_PID=""
stop "$pid" || { echo "pgo_train: the instrumented gateway did not exit cleanly; its counts are missing" >&2; exit 1; }
