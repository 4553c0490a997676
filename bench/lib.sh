# Helpers shared by the benchmark scenarios (sourced by bench/run.sh, and by scripts/pgo_train.sh
# for its training load; never run alone).
# Every process started here is on loopback, is remembered, and is stopped by bench_cleanup
# (run.sh traps EXIT); every wait has a deadline.

BENCH_PIDS=()

# shell_join ARGS...: the arguments as one line a shell would read back the same (quoted where needed).
shell_join() {
  local a out=()
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/\'\\\'\'}'"); fi
  done
  echo "${out[*]}"
}

# bench_start NAME CMD...: runs CMD in the background, output in $WORK/NAME.log; sets $LAST_PID.
bench_start() {
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  BENCH_PIDS+=("$LAST_PID")
  shell_join "$@" >"$WORK/$name.cmd"
}

# bench_stop PID...: stops processes this script started (TERM, then KILL after 3 s), reaps
# them and forgets them, so a later clean-up never signals a recycled PID.
bench_stop() {
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  bench_forget "$@"
}

# bench_forget PID...: drops reaped processes from the clean-up list.
bench_forget() {
  local p q keep=()
  for q in "${BENCH_PIDS[@]}"; do
    for p in "$@"; do [ "$p" = "$q" ] && continue 2; done
    keep+=("$q")
  done
  BENCH_PIDS=("${keep[@]}")
}

bench_cleanup() {
  if [ ${#BENCH_PIDS[@]} -gt 0 ]; then bench_stop "${BENCH_PIDS[@]}"; fi
  return 0
}

# wait_for FILE PATTERN [SECONDS [PID]]: until FILE has a line matching PATTERN; fails at the
# deadline, or at once when PID (the process that writes FILE) has ended.
wait_for() {
  local file=$1 pattern=$2 deadline=$((SECONDS + ${3:-15})) pid=${4:-}
  until grep -q -- "$pattern" "$file" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ] || { [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; }; then
      if [ $SECONDS -ge $deadline ]; then echo "bench: timed out waiting for '$pattern' in $file:" >&2
      else echo "bench: process $pid ended before '$pattern' appeared in $file:" >&2; fi
      tail -5 "$file" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.05
  done
}

# sim_urls LOGFILE: the node URLs a `hydra sim` printed, one per line.
sim_urls() { grep -o 'listening on http://[0-9.:]*' "$1" | sed 's/listening on //'; }

# start_sims NAME COUNT FLAGS...: one `hydra sim` process with COUNT nodes on free ports of
# 127.0.0.1; sets $SIM_URLS (array) and $LAST_PID.
start_sims() {
  local name=$1 count=$2; shift 2
  bench_start "$name" "$HYDRA" sim --listen 127.0.0.1:0 --nodes "$count" --load-seconds 0 "$@"
  local deadline=$((SECONDS + 20))
  until [ "$(sim_urls "$WORK/$name.log" | wc -l)" -ge "$count" ]; do
    { [ $SECONDS -lt $deadline ] && kill -0 "$LAST_PID" 2>/dev/null; } ||
      { echo "bench: sims $name did not start" >&2; tail -5 "$WORK/$name.log" >&2; return 1; }
    sleep 0.05
  done
  mapfile -t SIM_URLS < <(sim_urls "$WORK/$name.log")
}

# start_hydra NAME NODE_SUFFIX URL...: `hydra serve` on a free loopback port in front of the
# URLs (each given NODE_SUFFIX, e.g. '#slots=1024'); waits for its first probe round; sets
# $HYDRA_URL and $HYDRA_PID. A caller's array HYDRA_ENV (e.g. `local HYDRA_ENV=(HYDRA_THREADS=2)`
# or `(-u HYDRA_THREADS)`) is given to `env` in front of this hydra alone, so the command line
# records it and nothing else the script runs inherits it (LD_PRELOAD, say).
start_hydra() {
  local name=$1 suffix=$2; shift 2
  local args=(serve --no-discovery --listen 127.0.0.1:0 --data-dir "$WORK/data-$name")
  local u pre=()
  for u in "$@"; do args+=(--node "$u$suffix"); done
  [ -z "${HYDRA_ENV[*]+x}" ] || pre=(env "${HYDRA_ENV[@]}")
  HYDRA_DASHBOARD=false bench_start "$name" ${pre[@]+"${pre[@]}"} "$HYDRA" "${args[@]}"
  HYDRA_PID=$LAST_PID
  wait_for "$WORK/$name.log" 'nodes reachable' 20 "$HYDRA_PID"
  HYDRA_URL=$(grep -o 'Ollama API on http://[0-9.:]*' "$WORK/$name.log" | sed 's/Ollama API on //')
}

# start_nginx NAME BALANCE URL...: nginx as a plain reverse proxy over the URLs, configured in
# $WORK/NAME; BALANCE is "" (round robin) or "least_conn;". $NGINX_WORKERS worker processes
# (default 1); with more than one, each worker has its own listening socket (`reuseport`), as
# Hydra's threads do: with one shared socket, one worker took nearly every connection of a
# benchmark's burst (measured: 64 of 64 in one run, 53 of 64 in another), so "2 workers" ran on
# one. A caller's array NGINX_ENV goes to `env` in front of nginx alone, as HYDRA_ENV
# does for start_hydra. $NGINX_SERVER_OPTS (e.g. "max_fails=1 fail_timeout=5s") is added to each
# upstream server line and $NGINX_LOCATION_EXTRA (whole directives) to the location; both empty
# by default (nginx's own defaults). Sets $NGINX_URL and $NGINX_PID.
start_nginx() {
  local name=$1 balance=$2; shift 2
  local dir="$WORK/$name" port u pre=() listen_opts=""
  [ "${NGINX_WORKERS:-1}" -gt 1 ] && listen_opts=" reuseport"
  mkdir -p "$dir/logs"
  port=$(free_port)
  {
    echo "worker_processes ${NGINX_WORKERS:-1};"
    # nginx started as root would switch its worker to 'nobody', who cannot read the temp dir.
    [ "$(id -u)" -eq 0 ] && echo "user root;"
    echo "pid $dir/nginx.pid;"
    echo "error_log $dir/logs/error.log warn;"
    echo "events { worker_connections 30000; }"
    echo "http {"
    echo "  access_log $dir/logs/access.log;"
    echo "  client_body_temp_path $dir/client_body; proxy_temp_path $dir/proxy;"
    echo "  fastcgi_temp_path $dir/fastcgi; uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;"
    echo "  keepalive_requests 1000000;"
    echo "  upstream sims {"
    [ -n "$balance" ] && echo "    $balance"
    for u in "$@"; do echo "    server ${u#http://}${NGINX_SERVER_OPTS:+ $NGINX_SERVER_OPTS};"; done
    echo "    keepalive 1024;"
    echo "    keepalive_requests 1000000;"
    echo "  }"
    echo "  server {"
    echo "    listen 127.0.0.1:$port$listen_opts;"
    echo "    location / {"
    echo "      proxy_pass http://sims;"
    echo "      proxy_http_version 1.1;"
    echo "      proxy_set_header Connection \"\";"
    echo "      proxy_buffering off;"
    echo "      proxy_read_timeout 300s;"
    [ -n "${NGINX_LOCATION_EXTRA:-}" ] && echo "      $NGINX_LOCATION_EXTRA"
    echo "    }"
    echo "  }"
    echo "}"
  } >"$dir/nginx.conf"
  [ -z "${NGINX_ENV[*]+x}" ] || pre=(env "${NGINX_ENV[@]}")
  bench_start "$name" ${pre[@]+"${pre[@]}"} nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" -g 'daemon off;'
  NGINX_PID=$LAST_PID
  NGINX_URL="http://127.0.0.1:$port"
  local deadline=$((SECONDS + 10))
  until curl -s -o /dev/null "$NGINX_URL/"; do
    [ $SECONDS -lt $deadline ] || { echo "bench: nginx did not start" >&2; cat "$dir/logs/error.log" >&2; return 1; }
    sleep 0.05
  done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# loadgen NAME ARGS...: one load-generator run; the JSON report goes to $WORK/NAME.json and the
# exact command line to $WORK/commands.tsv.
loadgen() {
  local name=$1; shift
  printf '%s\t%s\n' "$name" "loadgen $(shell_join "$@")" >>"$WORK/commands.tsv"
  "$LOADGEN" "$@" --out "$WORK/$name.json" 2>"$WORK/$name.loadgen.log" || {
    echo "bench: loadgen $name failed:" >&2; cat "$WORK/$name.loadgen.log" >&2; return 1; }
  echo "  $name: $(tail -1 "$WORK/$name.loadgen.log" | sed 's/^loadgen: //')"
}

# fact KEY VALUE: one figure measured outside the load generator (RSS, CPU, times).
fact() { printf '%s\t%s\n' "$1" "$2" >>"$WORK/facts.tsv"; }

# listen_overflows: connections the kernel dropped because a listener's accept queue was full
# (TcpExt ListenOverflows, machine-wide; loopback only here).
listen_overflows() {
  awk '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1 } else print $col["ListenOverflows"] }' /proc/net/netstat
}

# fd_sampler PID FILE: appends PID's open-descriptor count to FILE twice a second until killed.
fd_sampler() {
  while [ -d "/proc/$1/fd" ]; do
    ls "/proc/$1/fd" 2>/dev/null | wc -l >>"$2"
    sleep 0.5
  done
}

# task_ticks PID...: "TID=TICKS" (utime + stime) for each thread of each PID, space-separated
# (an nginx worker is a process of one thread; Hydra's event-loop threads are threads of one).
task_ticks() {
  local p t v
  for p in "$@"; do
    for t in /proc/"$p"/task/*; do
      v=$(stat_ticks "$t/stat" 2>/dev/null) && printf '%s=%s ' "${t##*/}" "$v"
    done
  done
}

# stat_ticks FILE: utime + stime in clock ticks from a /proc .../stat file (the fields after the
# command name, which may hold spaces: utime and stime are the 12th and 13th of those).
# Fails (prints nothing) when the file cannot be read: the process or thread has ended.
stat_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$1"; }

# proc_cpu_ticks PID: utime + stime in clock ticks; proc_kb PID FIELD: VmRSS/VmHWM in kB.
proc_cpu_ticks() { stat_ticks "/proc/$1/stat"; }
proc_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
