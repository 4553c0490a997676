# Scenario 1, overhead: one small non-streamed /api/generate against the sims directly, through
# Hydra and through nginx, at each thread count of OVH_THREADS (Hydra's HYDRA_THREADS = nginx's
# worker_processes). Sims are fast (1 token, 100k tokens/s) so the node is not the bottleneck.
# Latency at a fixed, modest concurrency; throughput at a high one. Then Hydra once more with
# its access log off (its cost), and, untimed, the allocations per proxied request (bench/scenarios/allocs.sh). Sourced by bench/run.sh.

OVH_BODY='{"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":1}}'

# ovh_pair LABEL TARGET_ARGS...: the latency run and the throughput run against the targets.
ovh_pair() {
  local label=$1; shift
  loadgen "overhead-latency-$label" "$@" --body "$OVH_BODY" --mode closed --concurrency "$OVH_CONC" \
    --warmup 1 --duration "$OVH_SECONDS"
  loadgen "overhead-throughput-$label" "$@" --body "$OVH_BODY" --mode closed --concurrency "$OVH_MAX_CONC" \
    --warmup 1 --duration "$OVH_SECONDS"
}

overhead() {
  local counts=($OVH_THREADS) t
  echo "bench: overhead: direct vs Hydra vs nginx at ${OVH_THREADS// /, } thread(s) (about $(( (1 + 4 * ${#counts[@]}) * (1 + ${OVH_SECONDS%.*}) + 15 )) s)"
  start_sims ovh-sims 4 --tokens-per-second 100000 --parallel 1024 --max-queue 100000 --loaded llama3.2:3b
  local sims_pid=$LAST_PID urls=("${SIM_URLS[@]}")
  fact overhead.sims_cmd "$(cat "$WORK/ovh-sims.cmd")"
  fact overhead.threads "$OVH_THREADS"

  local direct=() u
  for u in "${urls[@]}"; do direct+=(--target "$u/api/generate"); done
  ovh_pair direct "${direct[@]}"

  # One proxy at a time, each started afresh: Hydra at t threads, then nginx at t workers.
  for t in "${counts[@]}"; do
    local HYDRA_ENV=("HYDRA_THREADS=$t")
    start_hydra "ovh-hydra-t$t" '#slots=1024' "${urls[@]}"
    # What the process really runs: a Hydra that ignores the setting shows it here.
    fact "overhead.t$t.hydra_os_threads" "$(ls "/proc/$HYDRA_PID/task" | wc -l)"
    ovh_pair "hydra-t$t" --target "$HYDRA_URL/api/generate"
    fact "overhead.t$t.hydra_cpu_s" "$(awk -v t="$(proc_cpu_ticks "$HYDRA_PID")" -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}')"
    fact "overhead.t$t.hydra_rss_kb" "$(proc_kb "$HYDRA_PID" VmHWM)"
    fact "overhead.t$t.hydra_cmd" "$(cat "$WORK/ovh-hydra-t$t.cmd")"
    bench_stop "$HYDRA_PID"

    if command -v nginx >/dev/null; then
      NGINX_WORKERS=$t start_nginx "ovh-nginx-t$t" "" "${urls[@]}"
      ovh_pair "nginx-t$t" --target "$NGINX_URL/api/generate"
      fact "overhead.t$t.nginx_cmd" "nginx -p $WORK/ovh-nginx-t$t -c $WORK/ovh-nginx-t$t/nginx.conf -g 'daemon off;'"
      cp "$WORK/ovh-nginx-t$t/nginx.conf" "$WORK/nginx.conf.txt"
      bench_stop "$NGINX_PID"
    fi
  done

  # The access log's cost: Hydra at the first thread count again, with log.access off (the
  # runs above write one text line per request to their log file, as nginx's access_log does).
  local t0=${counts[0]}
  local HYDRA_ENV=("HYDRA_THREADS=$t0" "HYDRA_ACCESS_LOG=off")
  start_hydra "ovh-hydra-nolog-t$t0" '#slots=1024' "${urls[@]}"
  ovh_pair "hydra-nolog-t$t0" --target "$HYDRA_URL/api/generate"
  fact overhead.nolog_threads "$t0"
  bench_stop "$HYDRA_PID"

  alloc_pass "${urls[@]}"
  bench_stop "$sims_pid"
}
