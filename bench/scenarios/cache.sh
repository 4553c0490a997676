# Scenario 8, cache: what a response-cache hit costs through the gateway, per tier, and what the
# cache saves on a workload where half the questions repeat. One sim answering 32 tokens at
# 2,000 tokens/s (about 16 ms a reply, like a small model on a good GPU); Hydra at one thread.
# - hit latency: the same deterministic question asked again and again (L1 hits), against the
#   sim answering it directly and Hydra with the cache off;
# - L2 and L3: CACHE_KEYS distinct questions stored, the gateway restarted (its L1 empty), then
#   asked once each: every answer comes from SQLite (L2), or, with no L2 and a Redis beside it,
#   from Redis (L3);
# - repeats: closed loop where each question is asked twice in a row ({half}), cache off vs
#   on: throughput, and how many requests reached the node (its /_sim/stats).
# Sourced by bench/run.sh.

CACHE_BODY='{"model":"llama3.2:3b","prompt":"why is the sky blue","stream":false,"options":{"temperature":0,"num_predict":32}}'
CACHE_KEYED='{"model":"llama3.2:3b","prompt":"question {seq}","stream":false,"options":{"temperature":0,"num_predict":32}}'
CACHE_HALF='{"model":"llama3.2:3b","prompt":"question {half}","stream":false,"options":{"temperature":0,"num_predict":32}}'

sim_generations() { curl -s "$1/_sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_by_path"].get("/api/generate", 0))'; }

# cache_tier NAME: stores CACHE_KEYS answers through a fresh gateway, restarts it on the same data
# dir (L1 empty), then asks each once at CACHE_RATE/s; every answer comes from the lower tier.
cache_tier() {
  local name=$1 url=$2
  start_hydra "$name" '#slots=64' "$url"
  loadgen "cache-fill-$name" --target "$HYDRA_URL/api/generate" --body "$CACHE_KEYED" --mode closed \
    --concurrency 8 --duration "$CACHE_FILL_SECONDS"
  bench_stop "$HYDRA_PID"
  start_hydra "$name" '#slots=64' "$url"
  loadgen "cache-$name" --target "$HYDRA_URL/api/generate" --body "$CACHE_KEYED" --mode open --rate "$CACHE_RATE" \
    --concurrency 8 --duration "$CACHE_SECONDS"
  fact "cache.$name.stats" "$(curl -s "$HYDRA_URL/stats" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["cache"]["tiers"]))')"
  bench_stop "$HYDRA_PID"
}

cache() {
  echo "bench: cache: hit latency per tier, and a workload where half the questions repeat (about 60 s)"
  start_sims cache-sims 1 --tokens-per-second 2000 --parallel 64 --loaded llama3.2:3b
  local sims_pid=$LAST_PID url=${SIM_URLS[0]}
  fact cache.sims_cmd "$(cat "$WORK/cache-sims.cmd")"
  loadgen cache-direct --target "$url/api/generate" --body "$CACHE_BODY" --mode closed --concurrency 1 \
    --warmup 0.5 --duration "$CACHE_SECONDS"

  local HYDRA_ENV=(HYDRA_THREADS=1 HYDRA_CACHE_MODE=off)
  start_hydra cache-off '#slots=64' "$url"
  loadgen cache-miss --target "$HYDRA_URL/api/generate" --body "$CACHE_BODY" --mode closed --concurrency 1 \
    --warmup 0.5 --duration "$CACHE_SECONDS"
  local before
  before=$(sim_generations "$url")
  loadgen cache-repeats-off --target "$HYDRA_URL/api/generate" --body "$CACHE_HALF" --mode closed \
    --concurrency 8 --duration "$CACHE_SECONDS"
  fact cache.repeats_off.node_requests "$(( $(sim_generations "$url") - before ))"
  bench_stop "$HYDRA_PID"

  HYDRA_ENV=(HYDRA_THREADS=1)
  start_hydra cache-on '#slots=64' "$url"
  loadgen cache-l1 --target "$HYDRA_URL/api/generate" --body "$CACHE_BODY" --mode closed --concurrency 1 \
    --warmup 0.5 --duration "$CACHE_SECONDS"
  before=$(sim_generations "$url")
  loadgen cache-repeats-on --target "$HYDRA_URL/api/generate" --body "$CACHE_HALF" --mode closed \
    --concurrency 8 --duration "$CACHE_SECONDS"
  fact cache.repeats_on.node_requests "$(( $(sim_generations "$url") - before ))"
  fact cache.hydra_cmd "$(cat "$WORK/cache-on.cmd")"
  bench_stop "$HYDRA_PID"

  cache_tier cache-l2 "$url"
  if command -v redis-server >/dev/null; then
    local port
    port=$(free_port)
    bench_start cache-redis redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --logfile ""
    local redis_pid=$LAST_PID
    wait_for "$WORK/cache-redis.log" 'Ready to accept connections' 10 "$LAST_PID"
    HYDRA_ENV=(HYDRA_THREADS=1 HYDRA_CACHE_L2_MB=0 "HYDRA_CACHE_REDIS_URL=redis://127.0.0.1:$port")
    cache_tier cache-l3 "$url"
    bench_stop "$redis_pid"
  fi
  bench_stop "$sims_pid"
}
