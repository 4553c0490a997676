# Allocations per proxied request (part of scenario 1, untimed): a fresh Hydra at ALLOC_THREADS,
# and nginx at one worker, each with bench/alloc_count.cpp preloaded, which counts every
# malloc/calloc/realloc/aligned_alloc/posix_memalign (operator new included) in a file mapped
# shared. The counter is read before and after each loadgen run of non-streamed requests; the
# process's idle rate (probes, telemetry) measured just before is subtracted pro rata.
# Skipped, with the reason in the report, when the shim is not built or hydra is sanitized.
# Sourced by bench/run.sh; called by overhead().

ALLOC_CHAT_BODY='{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":1}}'

# alloc_counter FILE: "calls bytes" so far (two little-endian uint64 at the start of FILE).
alloc_counter() { od -An -tu8 -N16 "$1" | awk '{print $1, $2}'; }

# alloc_measure LABEL COUNTER URL BODY: one loadgen run against URL; records the allocation
# calls and bytes counted during it, and its wall time.
alloc_measure() {
  local label=$1 counter=$2 url=$3 body=$4 c0 c1 t0 t1
  c0=$(alloc_counter "$counter"); t0=$(date +%s.%N)
  loadgen "allocs-$label" --target "$url" --body "$body" --mode closed --concurrency "$OVH_CONC" \
    --warmup 0 --duration "$ALLOC_SECONDS"
  c1=$(alloc_counter "$counter"); t1=$(date +%s.%N)
  fact "allocs.$label" "$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" \
    'BEGIN {split(a, x, " "); split(b, y, " "); print y[1] - x[1], y[2] - x[2], t1 - t0}')"
}

# alloc_idle LABEL COUNTER: the allocations of an idle process over ALLOC_SECONDS (a measurement
# window, not a wait for anything).
alloc_idle() {
  local label=$1 counter=$2 c0 c1 t0 t1
  c0=$(alloc_counter "$counter"); t0=$(date +%s.%N)
  sleep "$ALLOC_SECONDS"
  c1=$(alloc_counter "$counter"); t1=$(date +%s.%N)
  fact "allocs.$label" "$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" \
    'BEGIN {split(a, x, " "); split(b, y, " "); print y[1] - x[1], y[2] - x[2], t1 - t0}')"
}

# alloc_pass URL...: the whole pass over the given sims.
alloc_pass() {
  local shim=$BUILD_DIR/bench/liballoc_count.so
  if [ ! -f "$shim" ]; then
    fact allocs.skipped "the shim $shim is not built"
    echo "bench: allocations per request skipped: $shim is missing" >&2
    return 0
  fi
  if ldd "$HYDRA" 2>/dev/null | grep libasan >/dev/null; then  # not -q: ldd must not see SIGPIPE
    fact allocs.skipped "hydra is built with AddressSanitizer, whose malloc cannot be counted by a preloaded shim"
    echo "bench: allocations per request skipped: hydra is sanitized" >&2
    return 0
  fi
  echo "bench: allocations per proxied request (about $(( 4 * ${ALLOC_SECONDS%.*} + 8 )) s, untimed)"
  fact allocs.shim "$shim"
  local counter="$WORK/allocs-hydra.counter"
  fact allocs.threads "$ALLOC_THREADS"
  local HYDRA_ENV=("HYDRA_THREADS=$ALLOC_THREADS" "LD_PRELOAD=$shim" "HYDRA_ALLOC_COUNTER=$counter")
  start_hydra allocs-hydra '#slots=1024' "$@"
  fact allocs.hydra_cmd "$(cat "$WORK/allocs-hydra.cmd")"
  if [ "$(stat -c %s "$counter" 2>/dev/null || echo 0)" -lt 16 ]; then
    fact allocs.skipped "the shim did not create its counter file in hydra"
    bench_stop "$HYDRA_PID"
    return 0
  fi
  # First requests warm what a process makes once (pooled connections, caches), uncounted.
  local generate="$HYDRA_URL/api/generate" chat="$HYDRA_URL/api/chat"
  loadgen allocs-warm-generate --target "$generate" --body "$OVH_BODY" --concurrency "$OVH_CONC" --duration 0.5
  loadgen allocs-warm-chat --target "$chat" --body "$ALLOC_CHAT_BODY" --concurrency "$OVH_CONC" --duration 0.5
  alloc_idle hydra-idle "$counter"
  alloc_measure hydra-generate "$counter" "$generate" "$OVH_BODY"
  alloc_measure hydra-chat "$counter" "$chat" "$ALLOC_CHAT_BODY"
  bench_stop "$HYDRA_PID"

  command -v nginx >/dev/null || return 0
  counter="$WORK/allocs-nginx.counter"
  local NGINX_ENV=("LD_PRELOAD=$shim" "HYDRA_ALLOC_COUNTER=$counter")
  NGINX_WORKERS=1 start_nginx allocs-nginx "" "$@"
  loadgen allocs-warm-nginx --target "$NGINX_URL/api/generate" --body "$OVH_BODY" --concurrency "$OVH_CONC" --duration 0.5
  alloc_idle nginx-idle "$counter"
  alloc_measure nginx-generate "$counter" "$NGINX_URL/api/generate" "$OVH_BODY"
  bench_stop "$NGINX_PID"
}
