# Scenario 7, flood: requests for thousands of made-up model names (each one distinct, as a
# hostile or broken client sends them) beside ordinary requests. The ordinary requests' latency
# is measured alone, then again while the flood runs; with the flood's size, and the gateway's
# /metrics lines and RSS before and after. Sourced by bench/run.sh.

flood() {
  echo "bench: flood: ordinary requests alone, then beside $FLOOD_N made-up model names (about 20 s)"
  local body='{"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":1}}'
  local junk='{"model":"made-up-{seq}","prompt":"hi","stream":false}'
  start_sims flood-sims 2 --tokens-per-second 100000 --parallel 1024 --max-queue 100000 --loaded llama3.2:3b
  local sims_pid=$LAST_PID
  start_hydra flood-hydra '#slots=1024' "${SIM_URLS[@]}"
  local metrics_before rss_before
  loadgen flood-alone --target "$HYDRA_URL/api/generate" --body "$body" --mode closed --concurrency "$FLOOD_CONC" \
    --warmup 1 --duration "$FLOOD_SECONDS"
  metrics_before=$(curl -s "$HYDRA_URL/metrics" | wc -l)  # after ordinary traffic made its series
  rss_before=$(proc_kb "$HYDRA_PID" VmRSS)
  # The flood: open loop at FLOOD_RATE until FLOOD_N requests went out.
  local args=(--target "$HYDRA_URL/api/generate" --body "$junk" --mode open --rate "$FLOOD_RATE" --concurrency 64
              --duration "$(awk -v n="$FLOOD_N" -v r="$FLOOD_RATE" 'BEGIN {print n / r}')" --timeout 10)
  printf '%s\t%s\n' flood-junk "loadgen $(shell_join "${args[@]}")" >>"$WORK/commands.tsv"
  "$LOADGEN" "${args[@]}" --out "$WORK/flood-junk.json" 2>"$WORK/flood-junk.loadgen.log" &
  local junk_pid=$!
  BENCH_PIDS+=("$junk_pid")
  loadgen flood-beside --target "$HYDRA_URL/api/generate" --body "$body" --mode closed --concurrency "$FLOOD_CONC" \
    --warmup 0.5 --duration "$FLOOD_SECONDS"
  wait "$junk_pid" || echo "bench: the flood's loadgen failed" >&2
  bench_forget "$junk_pid"
  echo "  flood-junk: $(tail -1 "$WORK/flood-junk.loadgen.log" | sed 's/^loadgen: //')"
  fact flood.conc "$FLOOD_CONC"
  fact flood.metrics_lines_before "$metrics_before"
  fact flood.metrics_lines_after "$(curl -s "$HYDRA_URL/metrics" | wc -l)"
  fact flood.rss_kb_before "$rss_before"
  fact flood.rss_kb_after "$(proc_kb "$HYDRA_PID" VmRSS)"
  fact flood.tags_reads "$(for u in "${SIM_URLS[@]}"; do curl -s "$u/_sim/stats"; echo; done |
    python3 -c 'import json,sys; print(sum(json.loads(l)["requests_by_path"].get("/api/tags", 0) for l in sys.stdin if l.strip()))')"
  fact flood.hydra_cmd "$(cat "$WORK/flood-hydra.cmd")"
  bench_stop "$HYDRA_PID" "$sims_pid"
}
