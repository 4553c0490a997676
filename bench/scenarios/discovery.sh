# Scenario 6, discovery: 40 sims on 127.0.77.1-40, found by `hydra discover` scanning the /26
# around them (64 addresses). Three scans; the median is reported. Sourced by bench/run.sh.

discovery() {
  echo "bench: discovery: 40 sims on a /26 (about 5 s)"
  local port
  port=$(free_port)
  bench_start disc-sims "$HYDRA" sim --addresses 127.0.77.1-127.0.77.40 --listen "127.0.0.1:$port" --load-seconds 0
  local sims_pid=$LAST_PID deadline=$((SECONDS + 20))
  until [ "$(sim_urls "$WORK/disc-sims.log" | wc -l)" -ge 40 ]; do
    [ $SECONDS -lt $deadline ] || { echo "bench: discovery sims did not start" >&2; return 1; }
    sleep 0.05
  done
  fact discovery.sims_cmd "$(cat "$WORK/disc-sims.cmd")"
  local cmd=("$HYDRA" discover 127.0.77.0/26 --port "$port" --json) i t0 t1
  printf '%s\t%s\n' discovery "hydra discover 127.0.77.0/26 --port $port --json" >>"$WORK/commands.tsv"
  for i in 1 2 3; do
    t0=$(date +%s%N)
    "${cmd[@]}" >"$WORK/discovery-$i.json"
    t1=$(date +%s%N)
    fact "discovery.wall_ms.$i" "$(( (t1 - t0) / 1000000 ))"
  done
  bench_stop "$sims_pid"
}
