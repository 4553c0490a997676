# Scenario 5, routing quality: one heterogeneous fleet of sims (different speeds, VRAM, slots
# and resident models) under a mixed open-loop workload of three models, routed by Hydra's
# own policy and by the two baselines Hydra can be switched to (routing.policy = round_robin,
# least_connections): one binary, one setting apart. Each policy gets a freshly started fleet,
# so all three begin from the same resident models. Sourced by bench/run.sh.

# The fleet: name, then `hydra sim` flags, then what Hydra is told of each node (as a user
# would configure it: its VRAM, and its slots = the node's OLLAMA_NUM_PARALLEL).
QUALITY_FLEET=(
  "q-fast|--vram-gb 8 --tokens-per-second 120 --parallel 4 --loaded qwen2.5:7b|vram=8,slots=4"
  "q-mid|--vram-gb 12 --tokens-per-second 60 --parallel 4 --loaded gemma2:9b|vram=12,slots=4"
  "q-slow|--vram-gb 6 --tokens-per-second 30 --parallel 2 --loaded llama3.2:3b|vram=6,slots=2"
  "q-cpu|--vram-gb 0 --ram-gb 32 --tokens-per-second 8 --parallel 2|vram=0,ram=32,slots=2"
)
QUALITY_CATALOG=(--model llama3.2:3b=2.0 --model qwen2.5:7b=4.7 --model gemma2:9b=5.4)

quality_run() {
  local policy=$1 spec name flags slots urls=() sims=() i=0
  for spec in "${QUALITY_FLEET[@]}"; do
    IFS='|' read -r name flags slots <<<"$spec"
    # shellcheck disable=SC2086  # the flags are words
    bench_start "quality-$policy-$name" "$HYDRA" sim --listen 127.0.0.1:0 --name "$name" --seed $((++i)) \
      --load-seconds "$QUALITY_LOAD_S" "${QUALITY_CATALOG[@]}" $flags
    sims+=("$LAST_PID")
    wait_for "$WORK/quality-$policy-$name.log" 'listening on' 15 "$LAST_PID"
    urls+=("$(sim_urls "$WORK/quality-$policy-$name.log" | head -1)#$slots")
  done
  HYDRA_ROUTING_POLICY=$policy start_hydra "quality-$policy-gw" "" "${urls[@]}"
  fact quality.hydra_cmd "HYDRA_ROUTING_POLICY=<policy> $(cat "$WORK/quality-$policy-gw.cmd")"

  local pair model rate lgs=() lg
  for pair in $QUALITY_MIX; do
    model=${pair%=*} rate=${pair#*=}
    local run="quality-$policy-${model//[:.]/_}"
    local args=(--target "$HYDRA_URL/api/generate" --stream --mode open --rate "$rate" --concurrency 512
                --body "{\"model\":\"$model\",\"prompt\":\"hi\",\"options\":{\"num_predict\":$QUALITY_TOKENS}}"
                --duration "$QUALITY_SECONDS" --timeout "$QUALITY_TIMEOUT" --records "$WORK/$run.tsv")
    printf '%s\t%s\n' "$run" "loadgen $(shell_join "${args[@]}")" >>"$WORK/commands.tsv"
    "$LOADGEN" "${args[@]}" --out "$WORK/$run.json" 2>"$WORK/$run.loadgen.log" &
    lgs+=("$!")
    BENCH_PIDS+=("$!")
  done
  for lg in "${lgs[@]}"; do wait "$lg" || echo "bench: a loadgen of quality-$policy failed" >&2; done
  bench_forget "${lgs[@]}"
  echo "  quality-$policy: $(cat "$WORK"/quality-"$policy"-*.loadgen.log | sed 's/^loadgen: //' | paste -sd ';')"

  # What each node ended up doing: requests by model and cold loads (the sims count them).
  for spec in "${QUALITY_FLEET[@]}"; do
    IFS='|' read -r name _ _ <<<"$spec"
    local url
    url=$(sim_urls "$WORK/quality-$policy-$name.log" | head -1)
    fact "quality.$policy.$name.stats" "$(curl -s --max-time 5 "$url/_sim/stats")"
  done
  curl -s --max-time 5 "$HYDRA_URL/routing?limit=1000" >"$WORK/quality-$policy-routing.json" || true
  bench_stop "$HYDRA_PID" "${sims[@]}"
}

# Scenario 5b, a busy model nobody sized (issue #16): the `make demo` fleet, one model asked
# for by BUSY_CONC clients at once (closed loop, streamed), run twice: with each node's VRAM and
# slots in its URL, and with nothing but the URL (Hydra learns the slots). gpu-small has the
# model loaded and runs 2 at once; gpu-big has it on disk and runs 4; cpu-only runs 1.
BUSY_FLEET=(
  "gpu-big|--vram-gb 24 --ram-gb 64 --tokens-per-second 60 --parallel 4 --model llama3.2:3b=2 --model qwen2.5-coder:14b=9 --model nomic-embed-text=0.3 --loaded qwen2.5-coder:14b|vram=24,ram=64,slots=4"
  "gpu-small|--vram-gb 8 --ram-gb 32 --tokens-per-second 40 --parallel 2 --model llama3.2:3b=2 --model qwen3:1.7b=1.4 --loaded llama3.2:3b|vram=8,ram=32,slots=2"
  "cpu-only|--vram-gb 0 --ram-gb 32 --tokens-per-second 8 --parallel 1 --model llama3.2:3b=2 --model nomic-embed-text=0.3|vram=0,ram=32,slots=1"
)

busy_run() {
  local capacity=$1 spec name flags told urls=() sims=() i=0
  for spec in "${BUSY_FLEET[@]}"; do
    IFS='|' read -r name flags told <<<"$spec"
    # shellcheck disable=SC2086  # the flags are words
    bench_start "busy-$capacity-$name" "$HYDRA" sim --listen 127.0.0.1:0 --name "$name" --seed $((++i)) \
      --load-seconds "$BUSY_LOAD_S" $flags
    sims+=("$LAST_PID")
    wait_for "$WORK/busy-$capacity-$name.log" 'listening on' 15 "$LAST_PID"
    local url
    url=$(sim_urls "$WORK/busy-$capacity-$name.log" | head -1)
    if [ "$capacity" = configured ]; then urls+=("$url#$told"); else urls+=("$url"); fi
  done
  start_hydra "busy-$capacity-gw" "" "${urls[@]}"
  local run="busy-$capacity"
  local args=(--target "$HYDRA_URL/api/generate" --stream --mode closed --concurrency "$BUSY_CONC"
              --body "{\"model\":\"llama3.2:3b\",\"prompt\":\"Why is the sky blue? {seq}\",\"options\":{\"num_predict\":$BUSY_TOKENS}}"
              --duration "$BUSY_SECONDS" --timeout "$QUALITY_TIMEOUT" --records "$WORK/$run-llama3_2_3b.tsv")
  printf '%s\t%s\n' "$run" "loadgen $(shell_join "${args[@]}")" >>"$WORK/commands.tsv"
  "$LOADGEN" "${args[@]}" --out "$WORK/$run.json" 2>"$WORK/$run.loadgen.log" || echo "bench: the loadgen of $run failed" >&2
  echo "  $run: $(sed 's/^loadgen: //' "$WORK/$run.loadgen.log" | paste -sd ';')"
  for spec in "${BUSY_FLEET[@]}"; do
    IFS='|' read -r name _ _ <<<"$spec"
    url=$(sim_urls "$WORK/busy-$capacity-$name.log" | head -1)
    fact "busy.$capacity.$name.stats" "$(curl -s --max-time 5 "$url/_sim/stats")"
    fact "busy.$capacity.$name.id" "${url#http://}"
  done
  # What Hydra learned (slots per node and model) and the nodes' first-byte times.
  curl -s --max-time 5 "$HYDRA_URL/nodes" >"$WORK/busy-$capacity-nodes.json" || true
  curl -s --max-time 5 "$HYDRA_URL/metrics" >"$WORK/busy-$capacity-metrics.txt" || true
  bench_stop "$HYDRA_PID" "${sims[@]}"
}

busy() {
  echo "bench: routing quality, a busy model with and without configured capacities (about $((2 * BUSY_SECONDS + 10)) s)"
  fact busy.seconds "$BUSY_SECONDS"
  fact busy.concurrency "$BUSY_CONC"
  fact busy.tokens "$BUSY_TOKENS"
  fact busy.load_s "$BUSY_LOAD_S"
  local spec
  for spec in "${BUSY_FLEET[@]}"; do fact "busy.fleet.${spec%%|*}" "$spec"; done
  local capacity
  for capacity in configured none; do busy_run "$capacity"; done
  return 0
}

quality() {
  echo "bench: routing quality: a mixed workload on a heterogeneous fleet, three policies (about $((3 * (QUALITY_SECONDS + QUALITY_TIMEOUT / 2))) s)"
  fact quality.seconds "$QUALITY_SECONDS"
  fact quality.timeout_s "$QUALITY_TIMEOUT"
  fact quality.tokens "$QUALITY_TOKENS"
  fact quality.load_s "$QUALITY_LOAD_S"
  local spec
  for spec in "${QUALITY_FLEET[@]}"; do fact "quality.fleet.${spec%%|*}" "$spec"; done
  fact quality.mix "$QUALITY_MIX"
  local policy
  for policy in $QUALITY_POLICIES; do quality_run "$policy"; done
  busy
  return 0
}
