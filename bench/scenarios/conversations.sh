# Scenario 10, conversations: multi-turn chats on nodes that keep a prompt cache per slot, as
# Ollama's runner does (each slot keeps the tokens of its last request; a request evaluates only
# what its slot does not already hold). Four sims of different speeds and slots, one model
# resident on all, Hydra in front; CONV_CONVERSATIONS chats of CONV_TURNS turns each (a shared
# system prompt, a long document per chat, then short questions, every reply sent back as it was
# streamed), driven by bench/conversations.py. Compared, each on a freshly started fleet: Hydra's
# policy with its prefix scorer (the default), the same with HYDRA_ROUTING_PREFIX_WEIGHT=0, least
# connections and round robin. Measured: time to first token, turns per second, failures, and the
# prompt tokens the sims evaluated and found in a slot's cache (their /_sim/stats).
# Sourced by bench/run.sh.

# The fleet, one word per node in each list. Slots in the proportions 4:2:2:1, 36 in all: enough
# for each of the 32 conversations to find its own slot's cache again if its turns keep going to
# the same node (a sim's slot keeps only its last request, so with fewer slots than conversations
# alive, e.g. 4/2/2/1, the slots are taken by other conversations during every think time and no
# routing can reuse more than the shared system prompt).
CONV_NAMES=(c-fast c-mid c-slow c-small)
read -r -a CONV_PARALLEL <<<"${CONV_PARALLEL:-16 8 8 4}"          # slots (--parallel; #slots= to Hydra)
read -r -a CONV_TPS <<<"${CONV_TPS:-60 40 30 20}"                 # generation, tokens/s
read -r -a CONV_PROMPT_TPS <<<"${CONV_PROMPT_TPS:-4000 3000 2000 1000}"  # prompt evaluation, tokens/s

conv_policy_env() {  # the HYDRA_ENV of a policy's gateway
  case $1 in
    scored) CONV_HYDRA_ENV=(HYDRA_ROUTING_POLICY=scored) ;;
    scored_noprefix) CONV_HYDRA_ENV=(HYDRA_ROUTING_POLICY=scored HYDRA_ROUTING_PREFIX_WEIGHT=0) ;;
    *) CONV_HYDRA_ENV=("HYDRA_ROUTING_POLICY=$1") ;;
  esac
}

conversations_run() {
  local policy=$1 i name flags urls=() sims=()
  for i in "${!CONV_NAMES[@]}"; do
    name=${CONV_NAMES[$i]}
    # --multiuser-cache: slots chosen as Ollama's runner does with OLLAMA_MULTIUSER_CACHE=1, the
    # setting for nodes serving many conversations (README "Prefix affinity").
    flags=(--tokens-per-second "${CONV_TPS[$i]}" --parallel "${CONV_PARALLEL[$i]}"
           --prompt-tokens-per-second "${CONV_PROMPT_TPS[$i]}" --multiuser-cache)
    # shellcheck disable=SC2086  # CONV_SIM_FLAGS are words
    bench_start "conv-$policy-$name" "$HYDRA" sim --listen 127.0.0.1:0 --name "$name" --seed $((i + 1)) \
      --load-seconds 0 --loaded "$CONV_MODEL" "${flags[@]}" ${CONV_SIM_FLAGS:-}
    sims+=("$LAST_PID")
    wait_for "$WORK/conv-$policy-$name.log" 'listening on' 15 "$LAST_PID"
    urls+=("$(sim_urls "$WORK/conv-$policy-$name.log" | head -1)#slots=${CONV_PARALLEL[$i]}")
    if [ "$policy" = "${CONV_POLICIES%% *}" ]; then fact "conversations.$name.sim_cmd" "$(cat "$WORK/conv-$policy-$name.cmd")"; fi
  done
  conv_policy_env "$policy"
  # shellcheck disable=SC2034  # start_hydra reads it
  local HYDRA_ENV=("${CONV_HYDRA_ENV[@]}")
  start_hydra "conv-$policy-gw" "" "${urls[@]}"
  fact "conversations.$policy.hydra_cmd" "$(cat "$WORK/conv-$policy-gw.cmd")"

  local run="conv-$policy"
  local args=(--target "$HYDRA_URL/api/chat" --model "$CONV_MODEL" --conversations "$CONV_CONVERSATIONS"
              --turns "$CONV_TURNS" --system-words "$CONV_SYSTEM_WORDS" --doc-min "$CONV_DOC_MIN" --doc-max "$CONV_DOC_MAX"
              --think-min "$CONV_THINK_MIN" --think-max "$CONV_THINK_MAX" --spread "$CONV_SPREAD"
              --num-predict "$CONV_TOKENS" --seed "$CONV_SEED" --timeout "$CONV_TIMEOUT" --deadline "$CONV_DEADLINE"
              --records "$WORK/$run.tsv")
  printf '%s\t%s\n' "$run" "conversations.py $(shell_join "${args[@]}")" >>"$WORK/commands.tsv"
  python3 bench/conversations.py "${args[@]}" --out "$WORK/$run.json" 2>"$WORK/$run.driver.log" &
  local driver=$!
  BENCH_PIDS+=("$driver")
  wait "$driver" || echo "bench: the conversations driver of $policy failed: $(tail -3 "$WORK/$run.driver.log")" >&2
  bench_forget "$driver"
  echo "  $run: $(tail -1 "$WORK/$run.driver.log" | sed 's/^conversations: //')"

  # What each node did: prompt tokens evaluated and reused (the prompt cache), requests, slots.
  for i in "${!CONV_NAMES[@]}"; do
    name=${CONV_NAMES[$i]}
    local url
    url=$(sim_urls "$WORK/conv-$policy-$name.log" | head -1)
    fact "conversations.$policy.$name.stats" "$(curl -s --max-time 5 "$url/_sim/stats")"
    fact "conversations.$policy.$name.id" "${url#http://}"
  done
  curl -s --max-time 5 "$HYDRA_URL/routing?limit=1000" >"$WORK/conv-$policy-routing.json" || true
  bench_stop "$HYDRA_PID" "${sims[@]}"
}

conversations() {
  local n=${#CONV_NAMES[@]} i
  if [ ${#CONV_PARALLEL[@]} -ne "$n" ] || [ ${#CONV_TPS[@]} -ne "$n" ] || [ ${#CONV_PROMPT_TPS[@]} -ne "$n" ]; then
    echo "bench: conversations: CONV_PARALLEL, CONV_TPS and CONV_PROMPT_TPS need $n values each" >&2
    return 1
  fi
  local policies
  read -r -a policies <<<"$CONV_POLICIES"
  echo "bench: conversations: $CONV_CONVERSATIONS chats of $CONV_TURNS turns, ${#policies[@]} policies" \
       "on a fresh fleet each (about 30 to 50 s each)"
  fact conversations.policies "$CONV_POLICIES"
  fact conversations.model "$CONV_MODEL"
  fact conversations.sim_flags "${CONV_SIM_FLAGS:-}"
  fact conversations.nodes "${CONV_NAMES[*]}"
  for i in "${!CONV_NAMES[@]}"; do
    fact "conversations.fleet.${CONV_NAMES[$i]}" "${CONV_PARALLEL[$i]} ${CONV_TPS[$i]} ${CONV_PROMPT_TPS[$i]}"
  done
  local policy
  for policy in "${policies[@]}"; do conversations_run "$policy"; done
  return 0
}
