# Scenario 9, gateways: what sharing state through Redis (issue #19) costs, and what happens when
# one of several gateways dies. The same 4 fast sims (100,000 tokens/s, as in scenario 1) behind:
#   - nginx alone (a reference for the proxy hop in front of every gateway setup),
#   - nginx -> one gateway, no Redis,
#   - nginx -> one gateway with shared state on (its own redis-server),
#   - nginx -> three gateways sharing one redis-server (nginx round robin over them).
# Every gateway runs at one thread with the response cache off (so every request reaches a sim
# and takes a slot lease); nginx at one worker. For each: latency at GW_CONC in flight, throughput
# at GW_MAX_CONC (closed loop), Redis commands per request (the gateways' `redis_commands` from
# /health, before and after, minus their idle rate, over the requests the sims received), CPU
# per request of the gateways and of Redis. Then, with the three, streamed requests (0.5 s each,
# a scripted prompt on the same sims) at GW_FO_RATE/s through nginx, and one gateway SIGKILLed
# GW_FO_KILL_AT s in: failed requests, when the errors stop, and when the dead gateway's leases
# return in Redis. nginx's passive checks: `max_fails=1 fail_timeout=5s` on each server and
# `proxy_next_upstream error timeout http_502`. Sourced by bench/run.sh.

GW_BODY='{"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":1}}'
GW_SLOW_BODY='{"model":"llama3.2:3b","prompt":"slow stream","options":{"num_predict":10}}'
GW_NGINX_SERVER_OPTS="max_fails=1 fail_timeout=5s"
GW_NGINX_LOCATION_EXTRA="proxy_next_upstream error timeout http_502;"

# gw_sum PATH EXPR URL...: the Python expression EXPR (over `d`, the JSON of GET URL/PATH) for
# each URL, summed.
gw_sum() {
  local path=$1 expr=$2 u total=0 v; shift 2
  for u in "$@"; do
    v=$(curl -s --max-time 5 "$u$path" | python3 -c "import json,sys; d=json.load(sys.stdin); print($expr)")
    total=$((total + v))
  done
  echo "$total"
}

# gw_sum_health FIELD URL...: FIELD of components.shared_state in each gateway's /health, summed.
gw_sum_health() {
  local field=$1; shift
  gw_sum /health "d['components'].get('shared_state', {}).get('$field', 0)" "$@"
}

# gw_sim_requests: /api/generate requests the sims received so far (all four).
gw_sim_requests() {
  gw_sum /_sim/stats "d['requests_by_path'].get('/api/generate', 0)" "${GW_SIMS[@]}"
}

# gw_cpu_ticks PID...: their CPU time (utime + stime), clock ticks, summed.
gw_cpu_ticks() {
  local p total=0
  for p in "$@"; do total=$((total + $(proc_cpu_ticks "$p"))); done
  echo "$total"
}

# gw_steal [BEFORE]: "steal total" CPU ticks from /proc/stat; given an earlier reading, the
# percentage of CPU time since then that the host took from this (virtual) machine.
gw_steal() {
  local now
  now=$(awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat)
  if [ -z "${1:-}" ]; then echo "$now"; return; fi
  awk -v a="$1" -v b="$now" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.0f\n", (y[2] > x[2]) ? 100 * (y[1] - x[1]) / (y[2] - x[2]) : 0 }'
}

gw_redis_start() {
  GW_REDIS_PORT=$(free_port)
  bench_start "gw-redis-$1" redis-server --bind 127.0.0.1 --port "$GW_REDIS_PORT" --save "" --appendonly no --logfile ""
  GW_REDIS_PID=$LAST_PID
  wait_for "$WORK/gw-redis-$1.log" 'Ready to accept connections' 10 "$LAST_PID"
  fact gateways.redis_cmd "$(cat "$WORK/gw-redis-$1.cmd")"
}

# gw_start SETUP COUNT [REDIS_PORT]: COUNT gateways gw1..gwCOUNT over the sims, each at one
# thread with the cache off, sharing the Redis on REDIS_PORT when given; waits until each lists
# all COUNT as live. Sets GW_URLS and GW_PIDS.
gw_start() {
  local setup=$1 count=$2 port=${3:-} i
  GW_URLS=() GW_PIDS=()
  local HYDRA_ENV
  for i in $(seq "$count"); do
    HYDRA_ENV=(HYDRA_THREADS=1 HYDRA_CACHE_MODE=off)
    [ -z "$port" ] || HYDRA_ENV+=("HYDRA_REDIS_URL=redis://127.0.0.1:$port" "HYDRA_GATEWAY_ID=gw$i"
                                  "HYDRA_LEASE_TTL_S=$GW_LEASE_TTL_S")
    start_hydra "gw-$setup-gw$i" '#slots=1024' "${GW_SIMS[@]}"
    GW_URLS+=("$HYDRA_URL") GW_PIDS+=("$HYDRA_PID")
  done
  fact "gateways.$setup.hydra_cmd" "$(cat "$WORK/gw-$setup-gw$count.cmd")"
  [ -n "$port" ] || return 0
  local u deadline=$((SECONDS + 15))
  for u in "${GW_URLS[@]}"; do
    until [ "$(curl -s --max-time 5 "$u/health" | python3 -c \
      "import json,sys; print(len(json.load(sys.stdin)['components'].get('shared_state', {}).get('gateways', [])))")" = "$count" ]; do
      [ $SECONDS -lt $deadline ] || { echo "bench: gateways of $setup did not see each other" >&2; return 1; }
      sleep 0.1
    done
  done
}

# gw_measure SETUP FRONT_URL [REDIS_PID]: the latency and throughput runs through FRONT_URL, with
# what the gateways in GW_PIDS/GW_URLS (and Redis) spent on them.
gw_measure() {
  local setup=$1 front=$2 redis_pid=${3:-}
  if [ -n "$redis_pid" ]; then  # what the gateways send Redis when idle (beats), per second
    local i0 i1 t0 t1
    t0=$(date +%s%3N); i0=$(gw_sum_health redis_commands "${GW_URLS[@]}")
    sleep "$GW_IDLE_S"
    t1=$(date +%s%3N); i1=$(gw_sum_health redis_commands "${GW_URLS[@]}")
    fact "gateways.$setup.idle_commands_per_s" "$(awk -v c=$((i1 - i0)) -v ms=$((t1 - t0)) 'BEGIN {print c * 1000 / ms}')"
  fi
  local req0 cmd0 cpu0 rcpu0=0 start_ms
  req0=$(gw_sim_requests)
  [ ${#GW_PIDS[@]} -eq 0 ] || cpu0=$(gw_cpu_ticks "${GW_PIDS[@]}")
  [ -z "$redis_pid" ] || { cmd0=$(gw_sum_health redis_commands "${GW_URLS[@]}"); rcpu0=$(proc_cpu_ticks "$redis_pid"); }
  [ -z "$redis_pid" ] || redis-cli -p "$GW_REDIS_PORT" config resetstat >/dev/null
  start_ms=$(date +%s%3N)
  loadgen "gateways-latency-$setup" --target "$front/api/generate" --body "$GW_BODY" --mode closed \
    --concurrency "$GW_CONC" --warmup "$GW_WARMUP" --duration "$GW_SECONDS"
  loadgen "gateways-throughput-$setup" --target "$front/api/generate" --body "$GW_BODY" --mode closed \
    --concurrency "$GW_MAX_CONC" --warmup "$GW_WARMUP" --duration "$GW_SECONDS"
  fact "gateways.$setup.requests" "$(( $(gw_sim_requests) - req0 ))"
  fact "gateways.$setup.wall_s" "$(awk -v ms=$(( $(date +%s%3N) - start_ms )) 'BEGIN {print ms / 1000}')"
  fact "gateways.$setup.count" "${#GW_PIDS[@]}"
  [ ${#GW_PIDS[@]} -eq 0 ] || fact "gateways.$setup.gateway_cpu_ticks" "$(( $(gw_cpu_ticks "${GW_PIDS[@]}") - cpu0 ))"
  if [ -n "$redis_pid" ]; then
    fact "gateways.$setup.redis_commands" "$(( $(gw_sum_health redis_commands "${GW_URLS[@]}") - cmd0 ))"
    fact "gateways.$setup.redis_errors" "$(gw_sum_health redis_errors "${GW_URLS[@]}")"
    fact "gateways.$setup.redis_cpu_ticks" "$(( $(proc_cpu_ticks "$redis_pid") - rcpu0 ))"
    # Redis's own count by command over the runs (commands run inside the Lua scripts included).
    redis-cli -p "$GW_REDIS_PORT" info commandstats >"$WORK/gateways-$setup-commandstats.txt"
  fi
}

# gw_nginx SETUP URL...: nginx (one worker, round robin, the passive checks above) over the URLs.
gw_nginx() {
  local setup=$1; shift
  NGINX_SERVER_OPTS=$GW_NGINX_SERVER_OPTS NGINX_LOCATION_EXTRA=$GW_NGINX_LOCATION_EXTRA start_nginx "gw-nginx-$setup" "" "$@"
}

# gw_kill: streamed load through nginx over the three gateways; gw2 SIGKILLed GW_FO_KILL_AT s in.
# Meanwhile: when gw2's slot leases stop counting in Redis (its gw: key expires; the acquire script
# counts only live gateways' holdings) and when gw1's /health stops listing it.
gw_kill() {
  local args=(--target "$NGINX_URL/api/generate" --body "$GW_SLOW_BODY" --stream --mode open --rate "$GW_FO_RATE"
              --concurrency 1024 --duration "$GW_FO_SECONDS" --timeout "$GW_FO_TIMEOUT" --timeline-ms 100
              --records "$WORK/gateways-kill.tsv")
  printf '%s\t%s\n' gateways-kill "loadgen $(shell_join "${args[@]}")" >>"$WORK/commands.tsv"
  "$LOADGEN" "${args[@]}" --out "$WORK/gateways-kill.json" 2>"$WORK/gateways-kill.loadgen.log" &
  local lg=$! victim=${GW_PIDS[1]} killed_ms held_ms="" listed_ms="" held_before health
  BENCH_PIDS+=("$lg")
  sleep "$GW_FO_KILL_AT"
  held_before=$(redis-cli -p "$GW_REDIS_PORT" hgetall hydra:held:gw2 | paste -sd' ')
  kill -KILL "$victim"
  killed_ms=$(date +%s%3N)
  wait "$victim" 2>/dev/null || true
  bench_forget "$victim"
  GW_PIDS=("${GW_PIDS[0]}" "${GW_PIDS[2]}")
  fact gateways.kill.unix_ms "$killed_ms"
  fact gateways.kill.held_before "$held_before"
  local deadline=$((SECONDS + ${GW_LEASE_TTL_S%.*} + 5))
  while [ $SECONDS -lt $deadline ] && { [ -z "$held_ms" ] || [ -z "$listed_ms" ]; }; do
    [ -n "$held_ms" ] || [ "$(redis-cli -p "$GW_REDIS_PORT" exists hydra:gw:gw2)" != 0 ] || held_ms=$(date +%s%3N)
    if [ -z "$listed_ms" ]; then
      health=$(curl -s --max-time 2 "${GW_URLS[0]}/health" || true)
      [[ $health != *'"gateways":'* || $health == *'"id":"gw2"'* ]] || listed_ms=$(date +%s%3N)
    fi
    sleep 0.1
  done
  [ -z "$held_ms" ] || fact gateways.kill.leases_returned_s "$(awk -v ms=$((held_ms - killed_ms)) 'BEGIN {print ms / 1000}')"
  [ -z "$listed_ms" ] || fact gateways.kill.unlisted_s "$(awk -v ms=$((listed_ms - killed_ms)) 'BEGIN {print ms / 1000}')"
  wait "$lg" || { echo "bench: loadgen gateways-kill failed" >&2; cat "$WORK/gateways-kill.loadgen.log" >&2; }
  bench_forget "$lg"
  echo "  gateways-kill: $(tail -1 "$WORK/gateways-kill.loadgen.log" | sed 's/^loadgen: //')"
}

gateways() {
  echo "bench: gateways: one gateway, one with Redis, three sharing Redis, behind nginx; then one killed (about 60 s)"
  if ! command -v nginx >/dev/null || ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    fact gateways.skipped "nginx, redis-server and redis-cli are needed"
    return 0
  fi
  local steal0 script="$WORK/gw-script.json"
  steal0=$(gw_steal)
  echo '[{"match": "^slow stream$", "reply": "one two three four five six seven eight nine ten", "tokens_per_second": 20}]' >"$script"
  start_sims gw-sims 4 --tokens-per-second 100000 --parallel 1024 --max-queue 100000 --loaded llama3.2:3b --script "$script"
  local sims_pid=$LAST_PID
  GW_SIMS=("${SIM_URLS[@]}")
  fact gateways.sims_cmd "$(cat "$WORK/gw-sims.cmd")"
  fact gateways.nginx_server_opts "$GW_NGINX_SERVER_OPTS"
  fact gateways.nginx_location_extra "$GW_NGINX_LOCATION_EXTRA"
  fact gateways.lease_ttl_s "$GW_LEASE_TTL_S"
  fact gateways.idle_s "$GW_IDLE_S"
  fact gateways.fo_rate "$GW_FO_RATE"
  fact gateways.fo_kill_at_s "$GW_FO_KILL_AT"
  fact gateways.fo_timeout_s "$GW_FO_TIMEOUT"

  local direct=() u
  for u in "${GW_SIMS[@]}"; do direct+=(--target "$u/api/generate"); done
  loadgen gateways-latency-direct "${direct[@]}" --body "$GW_BODY" --mode closed --concurrency "$GW_CONC" \
    --warmup "$GW_WARMUP" --duration "$GW_SECONDS"
  loadgen gateways-throughput-direct "${direct[@]}" --body "$GW_BODY" --mode closed --concurrency "$GW_MAX_CONC" \
    --warmup "$GW_WARMUP" --duration "$GW_SECONDS"

  GW_PIDS=() GW_URLS=()
  gw_nginx nginx "${GW_SIMS[@]}"
  gw_measure nginx "$NGINX_URL"
  bench_stop "$NGINX_PID"

  gw_start one 1
  gw_nginx one "${GW_URLS[@]}"
  gw_measure one "$NGINX_URL"
  bench_stop "$NGINX_PID" "${GW_PIDS[@]}"

  gw_redis_start one-redis
  gw_start one-redis 1 "$GW_REDIS_PORT"
  gw_nginx one-redis "${GW_URLS[@]}"
  gw_measure one-redis "$NGINX_URL" "$GW_REDIS_PID"
  bench_stop "$NGINX_PID" "${GW_PIDS[@]}" "$GW_REDIS_PID"

  gw_redis_start three-redis
  gw_start three-redis 3 "$GW_REDIS_PORT"
  gw_nginx three-redis "${GW_URLS[@]}"
  cp "$WORK/gw-nginx-three-redis/nginx.conf" "$WORK/gateways-nginx.conf.txt"
  gw_measure three-redis "$NGINX_URL" "$GW_REDIS_PID"
  gw_kill
  bench_stop "$NGINX_PID" "${GW_PIDS[@]}" "$GW_REDIS_PID" "$sims_pid"
  fact gateways.steal_pct "$(gw_steal "$steal0")"
}
