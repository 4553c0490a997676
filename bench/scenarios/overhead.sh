# Scenario 1, overhead: one small non-streamed /api/generate against the sims directly, through
# Hydra and through nginx. Sims are fast (1 token, 100k tokens/s) so the node is not the
# bottleneck. Latency at a fixed, modest concurrency; throughput at a high one.
# Sourced by bench/run.sh.

overhead() {
  echo "bench: overhead: direct vs Hydra vs nginx (about 40 s)"
  local body='{"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":1}}'
  start_sims ovh-sims 4 --tokens-per-second 100000 --parallel 1024 --max-queue 100000 --loaded llama3.2:3b
  local sims_pid=$LAST_PID urls=("${SIM_URLS[@]}")
  start_hydra ovh-hydra '#slots=1024' "${urls[@]}"
  start_nginx ovh-nginx "" "${urls[@]}"

  local direct=() u
  for u in "${urls[@]}"; do direct+=(--target "$u/api/generate"); done
  local -A targets=([direct]="${direct[*]}" [hydra]="--target $HYDRA_URL/api/generate"
                    [nginx]="--target $NGINX_URL/api/generate")
  local who
  for who in direct hydra nginx; do
    # shellcheck disable=SC2086  # the target list is words on purpose
    loadgen "overhead-latency-$who" ${targets[$who]} --body "$body" --mode closed --concurrency "$OVH_CONC" \
      --warmup 1 --duration "$OVH_SECONDS"
    # shellcheck disable=SC2086
    loadgen "overhead-throughput-$who" ${targets[$who]} --body "$body" --mode closed --concurrency "$OVH_MAX_CONC" \
      --warmup 1 --duration "$OVH_SECONDS"
  done
  fact overhead.hydra_cpu_s "$(awk -v t="$(proc_cpu_ticks "$HYDRA_PID")" -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}')"
  fact overhead.hydra_rss_kb "$(proc_kb "$HYDRA_PID" VmHWM)"
  fact overhead.nginx_cmd "nginx -p $WORK/ovh-nginx -c $WORK/ovh-nginx/nginx.conf -g 'daemon off;'"
  cp "$WORK/ovh-nginx/nginx.conf" "$WORK/nginx.conf.txt"
  fact overhead.hydra_cmd "$(cat "$WORK/ovh-hydra.cmd")"
  fact overhead.sims_cmd "$(cat "$WORK/ovh-sims.cmd")"
  bench_stop "$HYDRA_PID" "$NGINX_PID" "$sims_pid"
}
