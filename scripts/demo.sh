#!/usr/bin/env bash
# `make demo`: three emulated Ollama nodes of different sizes behind `hydra serve`, on loopback.
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
HYDRA=${HYDRA:-build/hydra}
LISTEN=${HYDRA_LISTEN:-127.0.0.1:8001}
DASHBOARD=${HYDRA_DASHBOARD_LISTEN:-127.0.0.1:8080}  # the gateway reads the same variable
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

start_sim() {  # name, then sim flags
  local name=$1; shift
  "$HYDRA" sim --listen 127.0.0.1:0 --name "$name" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
}
# A big GPU box, a small GPU box, and a CPU-only machine.
start_sim gpu-big   --vram-gb 24 --ram-gb 64 --tokens-per-second 60 --parallel 4 \
  --model llama3.2:3b=2 --model qwen2.5-coder:14b=9 --model nomic-embed-text=0.3 --loaded qwen2.5-coder:14b
start_sim gpu-small --vram-gb 8 --ram-gb 32 --tokens-per-second 40 --parallel 2 \
  --model llama3.2:3b=2 --model qwen3:1.7b=1.4 --loaded llama3.2:3b
start_sim cpu-only  --vram-gb 0 --ram-gb 32 --tokens-per-second 8 --parallel 1 \
  --model llama3.2:3b=2 --model nomic-embed-text=0.3

nodes=()
for name in gpu-big gpu-small cpu-only; do
  for _ in $(seq 1 100); do
    url=$(grep -o 'http://[0-9.:]*' "$work/$name.out" 2>/dev/null || true)
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { echo "demo: sim $name did not start:"; cat "$work/$name.err"; exit 1; }
  echo "demo: node $name at $url"
  nodes+=(--node "$url")
done
cat <<EOT
demo: starting the gateway on http://$LISTEN. Try, in another terminal:
  curl http://$LISTEN/api/tags
  curl http://$LISTEN/api/generate -d '{"model":"llama3.2:3b","prompt":"Why is the sky blue?"}'
  curl -i http://$LISTEN/api/chat -d '{"model":"qwen2.5-coder:14b","messages":[{"role":"user","content":"hi"}],"stream":false}'
  OLLAMA_HOST=http://$LISTEN ollama list      # the ollama CLI works too
The dashboard and its playground: http://$DASHBOARD (HYDRA_LISTEN and HYDRA_DASHBOARD_LISTEN move
either). Ctrl-C stops the demo.
EOT
"$HYDRA" serve --listen "$LISTEN" --no-discovery "${nodes[@]}" &
pids+=($!)
wait "${pids[-1]}"
