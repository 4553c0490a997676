#!/usr/bin/env bash
# The training run of profile-guided optimisation (`make profile`, cmake/pgo.cmake): an
# instrumented `hydra serve` serves the requests a gateway spends its time on (Ollama and
# OpenAI, streamed and not, on two threads) in front of `hydra sim` nodes of an ordinary build,
# then stops cleanly, which writes its counts (.gcda files) where the instrumented build said.
# Starting, waiting and load come from the benchmarks' helpers (bench/lib.sh).
# Usage: scripts/pgo_train.sh INSTRUMENTED_HYDRA HYDRA LOADGEN
set -euo pipefail
INSTRUMENTED=$1
HYDRA=$2
LOADGEN=$3
SECONDS_EACH=${PGO_SECONDS:-3}
WORK=$(mktemp -d /tmp/hydra-pgo.XXXXXX)
source "$(dirname "$0")/../bench/lib.sh"
trap 'bench_cleanup; rm -rf "$WORK"' EXIT

start_sims sims 2 --tokens-per-second 5000 --parallel 256 --loaded llama3.2:3b
# The instrumented gateway, with only these settings (none of the caller's HYDRA_* or config).
HYDRA_ENV=(-i "PATH=$PATH" "HOME=${HOME:-/tmp}" HYDRA_DASHBOARD=false HYDRA_THREADS=2 HYDRA_SHUTDOWN_GRACE=5)
HYDRA=$INSTRUMENTED start_hydra gateway '#slots=256' "${SIM_URLS[@]}"

load() {  # load NAME PATH BODY [loadgen flags...]: fails unless some reply succeeded
  local name=$1 path=$2 body=$3
  shift 3
  loadgen "$name" --target "$HYDRA_URL$path" --body "$body" --mode closed --concurrency 32 --warmup 0 \
    --duration "$SECONDS_EACH" "$@"
  python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["ok"] > 0 else "pgo_train: no reply succeeded")' \
    "$WORK/$name.json"
}
load generate /api/generate '{"model":"llama3.2:3b","prompt":"hi {seq}","stream":false,"options":{"num_predict":1}}'
load chat /api/chat '{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi {seq}"}],"stream":false,"options":{"num_predict":2}}'
load generate-stream /api/generate '{"model":"llama3.2:3b","prompt":"tell {seq}","options":{"num_predict":8}}' --stream
load chat-stream /api/chat '{"model":"llama3.2:3b","messages":[{"role":"user","content":"tell {seq}"}],"options":{"num_predict":8}}' --stream
load openai /v1/chat/completions '{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi {seq}"}],"max_tokens":4}'
load openai-stream /v1/chat/completions '{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi {seq}"}],"max_tokens":8,"stream":true}'
load tags /api/tags '' --method GET

# The counts are written as the instrumented gateway exits: a clean exit (its status 0 after
# SIGTERM, within 30 s), or no profile.
kill -TERM "$HYDRA_PID"
for _ in $(seq 300); do kill -0 "$HYDRA_PID" 2>/dev/null || break; sleep 0.1; done
rc=0
kill -0 "$HYDRA_PID" 2>/dev/null && rc=124
[ "$rc" -ne 0 ] || wait "$HYDRA_PID" || rc=$?
[ "$rc" -eq 0 ] || { echo "pgo_train: the instrumented gateway did not exit cleanly ($rc): no counts" >&2; exit 1; }
bench_forget "$HYDRA_PID"
