# Scenario 2, streaming: N concurrent NDJSON streams straight to the sims, then through a fresh
# Hydra, then through nginx as a plain proxy (as many workers as Hydra has threads); the added
# time to first chunk and gap per chunk, and the proxies' memory and CPU for it.
# Slow sims (STREAM_TPS tokens/s) keep every stream open for seconds. Sourced by bench/run.sh.

# tree_cpu_ticks PID: utime + stime of PID and its children (nginx's master and workers).
tree_cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1"); do total=$(( total + $(proc_cpu_ticks "$p" 2>/dev/null || echo 0) )); done
  echo "$total"
}

# stream_run LABEL N: runs at N streams: direct, through Hydra, through nginx.
stream_run() {
  local label=$1 n=$2
  local body="{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\",\"options\":{\"num_predict\":$STREAM_TOKENS}}"
  # Sims able to hold all N at once: 1024 slots per node, enough nodes, no queueing.
  local nodes=$(( (n + 1023) / 1024 + 1 ))
  start_sims "stream-sims-$label" "$nodes" --tokens-per-second "$STREAM_TPS" --parallel 1024 --max-queue 20000 --loaded llama3.2:3b
  local sims_pid=$LAST_PID urls=("${SIM_URLS[@]}")
  local common=(--body "$body" --stream --mode closed --concurrency "$n" --ramp "$STREAM_RAMP" --warmup "$STREAM_WARMUP"
                --duration "$STREAM_SECONDS" --timeout 60 --source "$STREAM_SOURCES")
  local direct=() u
  for u in "${urls[@]}"; do direct+=(--target "$u/api/generate"); done
  loadgen "stream-$label-direct" "${direct[@]}" "${common[@]}"

  # Hydra at STREAM_THREADS, or at its own default even if the caller's environment sets one.
  local HYDRA_ENV=(-u HYDRA_THREADS)
  [ -z "$STREAM_THREADS" ] || HYDRA_ENV=("HYDRA_THREADS=$STREAM_THREADS")
  start_hydra "stream-hydra-$label" '#slots=1024' "${urls[@]}"
  fact "stream.$label.hydra_os_threads" "$(ls "/proc/$HYDRA_PID/task" | wc -l)"
  local hz ticks0 ticks1 t0 t1
  hz=$(getconf CLK_TCK)
  fact "stream.$label.hydra_idle_rss_kb" "$(proc_kb "$HYDRA_PID" VmRSS)"
  ticks0=$(proc_cpu_ticks "$HYDRA_PID")
  t0=$(date +%s.%N)
  local overflows0 sampler
  overflows0=$(listen_overflows)
  # The most descriptors Hydra held, sampled twice a second: two per relayed stream when every
  # stream has its own upstream connection open.
  fd_sampler "$HYDRA_PID" "$WORK/stream-$label-fds" &
  sampler=$!
  BENCH_PIDS+=("$sampler")
  loadgen "stream-$label-hydra" --target "$HYDRA_URL/api/generate" "${common[@]}"
  bench_stop "$sampler"
  t1=$(date +%s.%N)
  ticks1=$(proc_cpu_ticks "$HYDRA_PID")
  fact "stream.$label.hydra_peak_fds" "$(sort -n "$WORK/stream-$label-fds" | tail -1)"
  fact "stream.$label.listen_overflows" "$(( $(listen_overflows) - overflows0 ))"
  fact "stream.$label.probe_failures" "$(grep -c 'probe failed' "$WORK/stream-hydra-$label.log" || true)"
  fact "stream.$label.hydra_peak_rss_kb" "$(proc_kb "$HYDRA_PID" VmHWM)"
  fact "stream.$label.hydra_end_rss_kb" "$(proc_kb "$HYDRA_PID" VmRSS)"
  fact "stream.$label.hydra_cpu_s" "$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$hz" 'BEGIN {print (b - a) / hz}')"
  fact "stream.$label.wall_s" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"
  fact "stream.$label.streams" "$n"
  fact "stream.$label.sim_nodes" "$nodes"
  fact "stream.$label.hydra_cmd" "$(cat "$WORK/stream-hydra-$label.cmd")"
  fact "stream.$label.sims_cmd" "$(cat "$WORK/stream-sims-$label.cmd")"
  bench_stop "$HYDRA_PID"
  if command -v nginx >/dev/null; then
    local workers=${STREAM_THREADS:-$(nproc)}
    NGINX_WORKERS=$workers start_nginx "stream-nginx-$label" "" "${urls[@]}"
    ticks0=$(tree_cpu_ticks "$NGINX_PID")
    t0=$(date +%s.%N)
    loadgen "stream-$label-nginx" --target "$NGINX_URL/api/generate" "${common[@]}"
    t1=$(date +%s.%N)
    ticks1=$(tree_cpu_ticks "$NGINX_PID")
    fact "stream.$label.nginx_workers" "$workers"
    fact "stream.$label.nginx_cpu_s" "$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$hz" 'BEGIN {print (b - a) / hz}')"
    fact "stream.$label.nginx_wall_s" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"
    bench_stop "$NGINX_PID"
  fi
  bench_stop "$sims_pid"
}

streaming() {
  # Through Hydra each stream holds two sockets (client side, node side), so the open-file
  # limit caps how many streams Hydra can relay: take the largest that fits below 10,000.
  local limit big
  limit=$(ulimit -n)
  big=$(( (limit - 200) / 2 ))
  [ "$big" -gt "$STREAM_BIG" ] && big=$STREAM_BIG
  fact stream.fd_limit "$limit"
  fact stream.big_target "$STREAM_BIG"
  fact stream.tps "$STREAM_TPS"
  fact stream.tokens "$STREAM_TOKENS"
  fact stream.ramp_s "$STREAM_RAMP"
  fact stream.threads "${STREAM_THREADS:-default}"
  echo "bench: streaming: $STREAM_SMALL then $big concurrent streams, direct, through Hydra and through nginx (about 3 min)"
  stream_run small "$STREAM_SMALL"
  stream_run big "$big"
}
