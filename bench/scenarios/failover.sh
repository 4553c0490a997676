# Scenario 4, failover: streamed requests (0.5 s each) at a fixed rate over three sims; one
# sim fails mid-run, either killed (SIGKILL: connections refused at once) or frozen (SIGSTOP:
# the kernel still accepts connections but nothing answers, like a hung machine). Failed
# requests, and from the timeline how long until its share is served elsewhere at normal
# latency. Through Hydra, then nginx (its passive checks: max_fails=1, fail_timeout=10s, retry
# on connect errors). Sourced by bench/run.sh.

# failover_run WHO MODE: WHO is hydra, hydra-off (failover.continue_streams = false) or nginx;
# MODE is kill or freeze.
failover_run() {
  local who=$1 mode=$2 pids=() urls=() i name="failover-$1-$2"
  for i in 1 2 3; do
    bench_start "$name-sim$i" "$HYDRA" sim --listen 127.0.0.1:0 --name "fo$i" --tokens-per-second 20 \
      --parallel 64 --load-seconds 0 --loaded llama3.2:3b
    pids+=("$LAST_PID")
    wait_for "$WORK/$name-sim$i.log" 'listening on' 15 "$LAST_PID"
    urls+=("$(sim_urls "$WORK/$name-sim$i.log" | head -1)")
  done
  local front front_pid
  if [ "$who" = hydra ]; then
    start_hydra "$name-gw" '#slots=64' "${urls[@]}"
    front=$HYDRA_URL front_pid=$HYDRA_PID
    fact failover.hydra_cmd "$(cat "$WORK/$name-gw.cmd")"
  elif [ "$who" = hydra-off ]; then  # mid-stream continuation turned off: streams end as before
    HYDRA_CONTINUE_STREAMS=false start_hydra "$name-gw" '#slots=64' "${urls[@]}"
    front=$HYDRA_URL front_pid=$HYDRA_PID
    fact failover.hydra_cmd "$(cat "$WORK/$name-gw.cmd")"
  else
    start_nginx "$name-gw" "" "${urls[@]}"
    front=$NGINX_URL front_pid=$NGINX_PID
  fi
  fact failover.sim_cmd "$(cat "$WORK/$name-sim1.cmd")"
  local body='{"model":"llama3.2:3b","prompt":"hi","options":{"num_predict":10}}'
  local args=(--target "$front/api/generate" --body "$body" --stream --mode open --rate "$FO_RATE" --concurrency 1024
              --duration "$FO_SECONDS" --timeout "$FO_TIMEOUT" --timeline-ms 250)
  printf '%s\t%s\n' "$name" "loadgen $(shell_join "${args[@]}")" >>"$WORK/commands.tsv"
  "$LOADGEN" "${args[@]}" --out "$WORK/$name.json" 2>"$WORK/$name.loadgen.log" &
  local lg=$!
  BENCH_PIDS+=("$lg")
  sleep "$FO_KILL_AT"
  if [ "$mode" = kill ]; then kill -KILL "${pids[1]}"; else kill -STOP "${pids[1]}"; fi
  fact "failover.$who.$mode.failed_unix_ms" "$(date +%s%3N)"
  wait "$lg" || { echo "bench: loadgen $name failed" >&2; cat "$WORK/$name.loadgen.log" >&2; }
  bench_forget "$lg"
  echo "  $name: $(tail -1 "$WORK/$name.loadgen.log" | sed 's/^loadgen: //')"
  kill -KILL "${pids[1]}" 2>/dev/null || true  # a stopped process would ignore TERM until resumed
  bench_stop "$front_pid" "${pids[@]}"
}

failover() {
  echo "bench: failover: a node killed, then frozen, under load; Hydra (continuation on, and off for the kill) and nginx (about 90 s)"
  fact failover.rate "$FO_RATE"
  fact failover.fail_at_s "$FO_KILL_AT"
  fact failover.timeout_s "$FO_TIMEOUT"
  local mode
  for mode in kill freeze; do
    failover_run hydra "$mode"
    [ "$mode" = kill ] && failover_run hydra-off "$mode"
    command -v nginx >/dev/null && failover_run nginx "$mode"
  done
  return 0
}
