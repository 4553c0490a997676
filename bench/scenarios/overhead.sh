# Scenario 1, overhead: one small non-streamed /api/generate against the sims directly, through
# Hydra and through nginx, at each thread count of OVH_THREADS (Hydra's HYDRA_THREADS = nginx's
# worker_processes). Sims generate 1 token at 100k tokens/s and answer in about 2 ms (the prompt's
# evaluation): the latency run leaves the machine lightly loaded, the throughput run saturates it.
# Latency at a fixed, modest concurrency; throughput at a high one. The targets are measured in
# turn, OVH_ROUNDS times over (this machine's other load moves from one minute to the next: a
# ratio is taken within a round, and the report gives medians over rounds). At the first thread
# count a Hydra with its access log off takes its turn too (its cost). Then, untimed, the
# allocations per proxied request (bench/scenarios/allocs.sh). Sourced by bench/run.sh.

OVH_BODY='{"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":1}}'

# machine_ticks: clock ticks of all CPUs so far, busy (all but idle and iowait) and in all (user
# to steal: guest time is counted in user already). printf: mawk prints a number above 2^31 in
# %g form otherwise.
machine_ticks() { awk '$1 == "cpu" { for (i = 2; i <= 9; i++) all += $i; printf "%.0f %.0f\n", all - $5 - $6, all }' /proc/stat; }

# ovh_pair LABEL "PIDS" TARGET_ARGS...: the latency run and the throughput run against the
# targets. Around the throughput run, the CPU time of PIDS (the proxy's processes; none for the
# direct path), the wall time and the machine's busy and total ticks go into a fact
# (overhead.cpu.LABEL): the proxy's CPU per request moves less with the machine's other load
# than a throughput does.
ovh_pair() {
  local label=$1 pids=$2; shift 2
  loadgen "overhead-latency-$label" "$@" --body "$OVH_BODY" --mode closed --concurrency "$OVH_CONC" \
    --warmup 1 --duration "$OVH_SECONDS"
  local p before=0 after=0 t0 t1 m0 m1 split0 split1
  for p in $pids; do before=$((before + $(proc_cpu_ticks "$p" || echo 0))); done
  split0=$(task_ticks $pids)
  m0=$(machine_ticks); t0=$(date +%s%N)
  loadgen "overhead-throughput-$label" "$@" --body "$OVH_BODY" --mode closed --concurrency "$OVH_MAX_CONC" \
    --warmup 1 --duration "$OVH_SECONDS"
  t1=$(date +%s%N); m1=$(machine_ticks)
  for p in $pids; do after=$((after + $(proc_cpu_ticks "$p" || echo 0))); done
  split1=$(task_ticks $pids)
  fact "overhead.cpu.$label" "$((after - before)) $(getconf CLK_TCK) $((t1 - t0)) $m0 $m1"
  # How the proxy's CPU time was shared among its threads (nginx: its worker processes): the
  # ticks each used during the run, the busiest first; shows whether a second thread did work.
  [ -z "$pids" ] || fact "overhead.split.$label" "$(split_ticks "$split0" "$split1")"
}

# split_ticks "TID=TICKS ..." "TID=TICKS ...": the ticks each thread used between the two
# readings (task_ticks), those that used any, the largest first.
split_ticks() {
  { printf '%s\n' $1 | sed 's/^/0 /'; printf '%s\n' $2 | sed 's/^/1 /'; } | tr '=' ' ' |
    awk '$1 == 0 { a[$2] = $3 } $1 == 1 { d = $3 - a[$2]; if (d > 0) print d }' | sort -rn | tr '\n' ' ' | sed 's/ $//'
}

overhead() {
  local counts=($OVH_THREADS) t r
  local per_round=$(( 2 * (1 + ${OVH_SECONDS%.*}) ))
  echo "bench: overhead: direct vs Hydra vs nginx at ${OVH_THREADS// /, } thread(s), $OVH_ROUNDS rounds (about $(( OVH_ROUNDS * (3 * ${#counts[@]} + 1) * per_round + 20 )) s)"
  start_sims ovh-sims 4 --tokens-per-second 100000 --parallel 1024 --max-queue 100000 --loaded llama3.2:3b
  local sims_pid=$LAST_PID urls=("${SIM_URLS[@]}")
  fact overhead.sims_cmd "$(cat "$WORK/ovh-sims.cmd")"
  fact overhead.threads "$OVH_THREADS"
  fact overhead.rounds "$OVH_ROUNDS"

  local direct=() u
  for u in "${urls[@]}"; do direct+=(--target "$u/api/generate"); done

  local t0=${counts[0]}
  for t in "${counts[@]}"; do
    # Both proxies at t threads / workers, started afresh; each idles while the others run.
    local HYDRA_ENV=("HYDRA_THREADS=$t")
    start_hydra "ovh-hydra-t$t" '#slots=1024' "${urls[@]}"
    local hydra_pid=$HYDRA_PID hydra_url=$HYDRA_URL
    # What the process really runs: a Hydra that ignores the setting shows it here.
    fact "overhead.t$t.hydra_os_threads" "$(ls "/proc/$hydra_pid/task" | wc -l)"
    fact "overhead.t$t.hydra_cmd" "$(cat "$WORK/ovh-hydra-t$t.cmd")"
    # The access log's cost: a Hydra with log.access off beside it, at the first thread count
    # (the others write one text line per request to their log file, as nginx's access_log does).
    local nolog_pid="" nolog_url=""
    if [ "$t" = "$t0" ]; then
      local HYDRA_ENV=("HYDRA_THREADS=$t0" "HYDRA_ACCESS_LOG=off")
      start_hydra "ovh-hydra-nolog-t$t0" '#slots=1024' "${urls[@]}"
      nolog_pid=$HYDRA_PID nolog_url=$HYDRA_URL
      fact overhead.nolog_threads "$t0"
    fi
    local nginx_pid=""
    if command -v nginx >/dev/null; then
      NGINX_WORKERS=$t start_nginx "ovh-nginx-t$t" "" "${urls[@]}"
      nginx_pid=$NGINX_PID
      fact "overhead.t$t.nginx_cmd" "nginx -p $WORK/ovh-nginx-t$t -c $WORK/ovh-nginx-t$t/nginx.conf -g 'daemon off;'"
      cp "$WORK/ovh-nginx-t$t/nginx.conf" "$WORK/nginx.conf.txt"
    fi

    for r in $(seq "$OVH_ROUNDS"); do
      ovh_pair "direct-t$t-r$r" "" "${direct[@]}"
      ovh_pair "hydra-t$t-r$r" "$hydra_pid" --target "$hydra_url/api/generate"
      # nginx's workers are its master's children (the master only waits).
      [ -z "$nginx_pid" ] || ovh_pair "nginx-t$t-r$r" "$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')" \
        --target "$NGINX_URL/api/generate"
      [ -z "$nolog_pid" ] || ovh_pair "hydra-nolog-t$t0-r$r" "$nolog_pid" --target "$nolog_url/api/generate"
    done

    fact "overhead.t$t.hydra_cpu_s" "$(awk -v t="$(proc_cpu_ticks "$hydra_pid")" -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}')"
    fact "overhead.t$t.hydra_rss_kb" "$(proc_kb "$hydra_pid" VmHWM)"
    bench_stop "$hydra_pid" $nolog_pid $nginx_pid
  done

  alloc_pass "${urls[@]}"
  bench_stop "$sims_pid"
}
