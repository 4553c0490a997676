#!/usr/bin/env python3
"""Writes bench/RESULTS.md (to stdout) from what bench/run.sh left in its work directory:
loadgen JSON reports (NAME.json), figures measured by the script (facts.tsv), the exact
command lines (commands.tsv) and Google Benchmark's JSON (routing.json)."""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

work = sys.argv[1]


def load(name):
    path = os.path.join(work, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None


def tsv(name):
    path = os.path.join(work, name)
    rows = []
    if os.path.exists(path):
        for line in open(path):
            key, _, value = line.rstrip("\n").partition("\t")
            rows.append((key, value))
    return rows


facts = dict(tsv("facts.tsv"))
commands = tsv("commands.tsv")
out = []
p = out.append


def ms(v):
    return f"{v:.2f} ms" if v < 100 else f"{v:.0f} ms"


def us_delta(a, b):
    """b - a (milliseconds) as signed microseconds or milliseconds."""
    d = b - a
    if abs(d) < 1:
        return f"{d * 1000:+.0f} µs"
    return f"{d:+.2f} ms" if abs(d) < 100 else f"{d:+.0f} ms"


def mib(kb):
    return f"{int(kb) / 1024:.1f} MiB"


# ---- header ---------------------------------------------------------------------------
cpu = "unknown CPU"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
try:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
except OSError:
    commit = "unknown"
try:
    nginx_version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
except OSError:
    nginx_version = "nginx not installed"
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

p("# Benchmark results")
p("")
p(f"Written by `make bench` (bench/run.sh) on {now}, commit {commit or 'unknown'}, in {facts.get('bench.seconds', '?')} s.")
p(f"Machine: {os.cpu_count()} cores, {cpu}, {mem_kb / 1048576:.1f} GiB memory, {platform.system()} {platform.release()}; "
  f"{nginx_version}; open-file limit {facts.get('machine.fd_limit', '?')}.")
if facts.get("hydra.version"):
    p(f"Gateway: `{facts['hydra.version']}` (a profile-guided build uses the counts in pgo/: README, \"`make profile`\").")
p("")
p(f"**Everything shares the same {os.cpu_count()} cores**: the load generator (`bench/loadgen`, one thread), "
  "the gateway (`hydra serve`, at the threads each section states; its default is one per core), nginx "
  "(in scenario 1 as many workers as Hydra has threads, elsewhere one), and the emulated "
  "nodes (`hydra sim`). So the figures are lower bounds for each program and the comparisons are between "
  "setups on the same loaded machine, not absolute capacities. Other work was running on the machine too: "
  f"load average (1, 5, 15 min) {facts.get('machine.load_before', '?')} before, {facts.get('machine.load_after', '?')} after. "
  "Everything listens on loopback.")
p("")
p("Latencies are nearest-rank percentiles of every request in the measured window (warm-up excluded). "
  "In open-loop runs latency counts from the *scheduled* send time, so queueing in the load generator is "
  "not hidden. TTFC = time to the first NDJSON line of a reply; gap = time between consecutive lines.")
p("")

headline = []

# ---- allocations per request (part of scenario 1) -------------------------------------
def alloc_fact(key):
    """(calls, bytes, seconds) counted over one window, or None."""
    v = facts.get(f"allocs.{key}")
    if not v:
        return None
    calls, nbytes, secs = v.split()
    return int(calls), int(nbytes), float(secs)


def allocs_section():
    if "allocs.skipped" in facts:
        p(f"Allocations per proxied request: not measured ({facts['allocs.skipped']}).")
        p("")
        return
    rows = []
    at = facts.get("allocs.threads", "1")
    hydra_label = f"Hydra, {at} thread{'' if at == '1' else 's'}"
    for proc, route, label in (("hydra", "generate", hydra_label), ("hydra", "chat", hydra_label),
                               ("nginx", "generate", "nginx, 1 worker")):
        counted, idle, r = alloc_fact(f"{proc}-{route}"), alloc_fact(f"{proc}-idle"), load(f"allocs-{proc}-{route}")
        if not counted or not r or not r["requests"]:
            continue
        idle_rate = (idle[0] / idle[2], idle[1] / idle[2]) if idle and idle[2] > 0 else (0.0, 0.0)
        calls = max(0.0, counted[0] - idle_rate[0] * counted[2])
        nbytes = max(0.0, counted[1] - idle_rate[1] * counted[2])
        rows.append((label, route, r, calls / r["requests"], nbytes / r["requests"], idle_rate[0]))
    if not rows:
        return
    p("### Allocations per proxied request")
    p("")
    p(f"A separate, untimed pass: a fresh Hydra at {at} thread{'' if at == '1' else 's'} (and nginx at 1 worker) with `bench/alloc_count.cpp` "
      "preloaded (`LD_PRELOAD`), which counts every call of malloc, calloc, realloc, aligned_alloc, posix_memalign "
      "and memalign, and of operator new (which, in Hydra, is jemalloc's and does not call malloc; a malloc "
      "inside a counted `new` is not counted again), each handed on to the allocator the process links, in a file "
      "mapped shared, read "
      f"by the script before and after each run. Non-streamed requests (`num_predict` 1), {conc} in flight on "
      "keep-alive connections, after an uncounted warm-up; what the idle process allocated per second "
      "(health probes, telemetry), measured just before, is subtracted pro rata. Bytes are those asked for.")
    p("")
    p("| proxy | route | requests (errors) | allocations per request | bytes per request | idle allocations per second |")
    p("| --- | --- | ---: | ---: | ---: | ---: |")
    for label, route, r, calls, nbytes, idle_rate in rows:
        p(f"| {label} | `/api/{route}` | {r['requests']:,} ({r['errors']['total']}) | **{calls:.1f}** | {nbytes:,.0f} | {idle_rate:,.0f} |")
    p("")
    hydra = {route: calls for label, route, r, calls, _, _ in rows if label.startswith("Hydra")}
    nginx = next((calls for label, _, _, calls, _, _ in rows if label.startswith("nginx")), None)
    if hydra:
        headline.append(f"Allocations per proxied request ({hydra_label}): "
                        + ", ".join(f"/api/{k} {v:.1f}" for k, v in hydra.items())
                        + (f"; nginx /api/generate {nginx:.1f}" if nginx is not None else ""))


# ---- overhead -------------------------------------------------------------------------
ovh_threads = facts.get("overhead.threads", "").split()
ovh_rounds = int(facts.get("overhead.rounds", "1"))
ovh_nolog_t = facts.get("overhead.nolog_threads")


def ovh_runs(who, t):
    """The (latency, throughput) runs of one target at thread count t, round by round."""
    out = []
    for r in range(1, ovh_rounds + 1):
        lat_run, thr_run = load(f"overhead-latency-{who}-t{t}-r{r}"), load(f"overhead-throughput-{who}-t{t}-r{r}")
        out.append((lat_run, thr_run) if lat_run and thr_run else None)
    return out


def median_of(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def per_round(a, b, f):
    """f(a's round, b's round) for each round both ran."""
    return [f(x, y) if x and y else None for x, y in zip(a, b)]


def ovh_cpu(who, t, r):
    """(the proxy's CPU µs per request, the machine's busy share) over one throughput run, or None.
    Requests: the run's measured rate times its wall time (the warm-up's second counted at that rate)."""
    fields = facts.get(f"overhead.cpu.{who}-t{t}-r{r}", "").split()
    run = load(f"overhead-throughput-{who}-t{t}-r{r}")
    if len(fields) != 7 or not run or not run["throughput_rps"]:
        return None
    ticks, hz, wall_ns, busy0, all0, busy1, all1 = (int(float(x)) for x in fields)
    requests = run["throughput_rps"] * wall_ns / 1e9
    busy = (busy1 - busy0) / (all1 - all0) if all1 > all0 else None
    return (ticks / hz * 1e6 / requests if requests else None), busy


def cpu_section():
    rows = []
    for t in ovh_threads:
        cells = {who: [ovh_cpu(who, t, r) for r in range(1, ovh_rounds + 1)] for who in ("hydra", "nginx", "direct")}
        if not any(cells["hydra"]):
            continue
        rows.append((t, cells))
    if not rows:
        return
    p("CPU per request, over each throughput run (user + system time of the proxy's processes, nginx's workers "
      "included, divided by the requests: the run's measured rate times its wall time, warm-up included). It moves "
      "less with the machine's other load than a throughput does (though a process woken less often does more per "
      "wake-up), so it is the better figure to compare across runs. "
      "*Machine busy*: the share of both cores in use during the run (all processes); what is left idle is time "
      "every process of the chain waited on another.")
    p("")
    p("| threads | Hydra µs per request (each round) | nginx µs per request (each round) | Hydra/nginx | machine busy: direct, Hydra, nginx |")
    p("| ---: | ---: | ---: | ---: | ---: |")

    def us(values):
        got = [v[0] for v in values if v and v[0] is not None]
        return median_of(got), ", ".join("—" if not v or v[0] is None else f"{v[0]:.1f}" for v in values)

    def busy(values):
        m = median_of(v[1] for v in values if v and v[1] is not None)
        return "—" if m is None else f"{m * 100:.0f}%"

    for t, cells in rows:
        h, h_rounds = us(cells["hydra"])
        n, n_rounds = us(cells["nginx"])
        ratio = f"**{h / n:.2f}**" if h and n else "—"
        p(f"| {t} | {'—' if h is None else f'{h:.1f}'} ({h_rounds}) | {'—' if n is None else f'{n:.1f}'} ({n_rounds}) | "
          f"{ratio} | {busy(cells['direct'])}, {busy(cells['hydra'])}, {busy(cells['nginx'])} |")
        if h and n:
            plural = "s" if t != "1" else ""
            headline.append(f"CPU per proxied request at {t} thread{plural}: Hydra {h:.1f} µs, nginx {n:.1f} µs "
                            f"({h / n:.2f}×; medians of {ovh_rounds} rounds)")
    p("")
    shares = [(t, who, [split_text(who, t, r) for r in range(1, ovh_rounds + 1)])
              for t, _ in rows if t != "1" for who in ("hydra", "nginx")]
    shares = [(t, who, texts) for t, who, texts in shares if any(texts)]
    if shares:
        p("How each proxy's CPU time was shared among its threads (nginx: its worker processes) in those runs, "
          "busiest first, each round: " + "; ".join(
              f"{'Hydra' if who == 'hydra' else 'nginx'} at {t}: {', '.join(x or '—' for x in texts)}"
              for t, who, texts in shares) + ". A thread under 1% is left out.")
        p("")


def split_text(who, t, r):
    """The threads' shares of a throughput run's CPU time, as "61/39" (overhead.split facts)."""
    ticks = [int(x) for x in facts.get(f"overhead.split.{who}-t{t}-r{r}", "").split()]
    total = sum(ticks)
    if not total:
        return None
    return "/".join(f"{100 * x / total:.0f}" for x in ticks if x * 100 >= total)


ovh = {(who, t): ovh_runs(who, t) for t in ovh_threads for who in ("direct", "hydra", "nginx")}
if ovh_nolog_t:
    ovh[("hydra-nolog", ovh_nolog_t)] = ovh_runs("hydra-nolog", ovh_nolog_t)
first_direct = next((x for t in ovh_threads for x in ovh[("direct", t)] if x), None)
if first_direct:
    conc = first_direct[0]["concurrency"]
    max_conc = first_direct[1]["concurrency"]
    rounds_text = f"{ovh_rounds} round{'s' if ovh_rounds != 1 else ''}"
    p("## 1. Overhead: direct vs Hydra vs nginx, at 1 and 2 threads")
    p("")
    p("The same small non-streamed `/api/generate` (`num_predict` 1, sims at 100,000 tokens/s) sent straight to "
      "4 sim nodes (round robin over them by the load generator), through `hydra serve` in front of the same 4, "
      "and through nginx (`upstream` round robin over the same 4, HTTP/1.1 keep-alive to them, "
      "`proxy_buffering off`). A sim answers in about 2 ms (the prompt's one uncached token at its default "
      "500 prompt tokens/s), so at the latency run's concurrency the machine is lightly loaded and the added "
      "latency is that of the hop, while the throughput run saturates both cores. Hydra runs at each thread count "
      f"({', '.join(ovh_threads)}; `HYDRA_THREADS`) and nginx beside it with `worker_processes` equal to it "
      "(with more than one, `listen ... reuseport`: a listening socket per worker, as Hydra has one per thread; "
      "with one shared socket a single worker took nearly every connection), "
      "both started afresh for that count. Closed loop: latency at "
      f"{conc} requests in flight, throughput at {max_conc} in flight; 1 s warm-up, then "
      f"{first_direct[0]['duration_s']:g} s measured. The targets take turns (direct, Hydra, nginx), {rounds_text} "
      "at each thread count, since this shared machine's other load moves from one minute to the next: each "
      "figure below is the median over the rounds, an *added* latency and a ratio are taken within a round "
      "(against that round's direct run) before the median, and the ratios of each round are listed.")
    p("")
    p(f"| path | threads / workers | p50 at {conc} | p99 at {conc} | added p50 | added p99 | max throughput (at {max_conc}) | errors |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

    def lat_of(run, q):
        return run[0]["latency_ms"][q]

    def rps_of(run):
        return run[1]["throughput_rps"]

    def added_text(who, t, q):
        """Median over rounds of who's latency quantile q minus the same round's direct one."""
        v = median_of(per_round(ovh[(who, t)], ovh[("direct", t)], lambda a, d: lat_of(a, q) - lat_of(d, q)))
        return "—" if v is None else us_delta(0, v)

    def rps_ratio(a, b):
        return per_round(a, b, lambda x, y: rps_of(x) / rps_of(y) if rps_of(y) else None)

    def ratios_text(values):
        return ", ".join("—" if v is None else f"{v:.2f}" for v in values)

    for t in ovh_threads:
        for who in ("direct", "hydra", "nginx"):
            runs = [x for x in ovh[(who, t)] if x]
            if not runs:
                continue
            errs = sum(x[0]["errors"]["total"] + x[1]["errors"]["total"] for x in runs)
            p(f"| {who} | {t} | {ms(median_of(lat_of(x, 'p50') for x in runs))} | "
              f"{ms(median_of(lat_of(x, 'p99') for x in runs))} | "
              f"{'—' if who == 'direct' else added_text(who, t, 'p50')} | "
              f"{'—' if who == 'direct' else added_text(who, t, 'p99')} | "
              f"{median_of(rps_of(x) for x in runs):,.0f} req/s | {errs} |")
    p("")
    p("Per thread count (Hydra's threads = nginx's workers). Aim (issue #17): throughput Hydra/nginx ≥ 0.9 "
      f"(goal 1.0) at each, and Hydra's added p50 at {conc} in flight ≤ 50 µs.")
    p("")
    p("| threads | throughput Hydra/nginx (each round) | Hydra/direct | nginx/direct | Hydra added p50 / p99 | "
      "nginx added p50 / p99 | OS threads in Hydra | Hydra CPU, peak RSS |")
    p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for t in ovh_threads:
        hydra, nginx, direct = ovh[("hydra", t)], ovh[("nginx", t)], ovh[("direct", t)]
        if not any(hydra):
            continue
        hn_rounds = rps_ratio(hydra, nginx)
        hn = median_of(hn_rounds)
        hd, nd = median_of(rps_ratio(hydra, direct)), median_of(rps_ratio(nginx, direct))
        h_added = f"{added_text('hydra', t, 'p50')} / {added_text('hydra', t, 'p99')}"
        n_added = f"{added_text('nginx', t, 'p50')} / {added_text('nginx', t, 'p99')}" if any(nginx) else "—"
        cpu_rss = "—"
        if f"overhead.t{t}.hydra_rss_kb" in facts:
            cpu_rss = f"{float(facts[f'overhead.t{t}.hydra_cpu_s']):.1f} s, {mib(facts[f'overhead.t{t}.hydra_rss_kb'])}"
        hn_text = "—" if hn is None else f"**{hn:.2f}** ({ratios_text(hn_rounds)})"
        p(f"| {t} | {hn_text} | {'—' if hd is None else f'{hd:.2f}'} | {'—' if nd is None else f'{nd:.2f}'} | "
          f"{h_added} | {n_added} | {facts.get(f'overhead.t{t}.hydra_os_threads', '?')} | {cpu_rss} |")
        plural = "s" if t != "1" else ""
        line = (f"Overhead at {t} thread{plural} (medians of {rounds_text}): Hydra adds {added_text('hydra', t, 'p50')} "
                f"p50, {added_text('hydra', t, 'p99')} p99")
        if hn is not None:
            line += (f" (nginx, {t} worker{plural}: {added_text('nginx', t, 'p50')}, {added_text('nginx', t, 'p99')}); "
                     f"max throughput {median_of(rps_of(x) for x in hydra if x):,.0f} req/s, {hn:.2f}× nginx's "
                     f"{median_of(rps_of(x) for x in nginx if x):,.0f} (rounds: {ratios_text(hn_rounds)})")
        headline.append(line)
    p("")
    cpu_section()
    t0 = ovh_nolog_t
    if t0 and any(ovh[("hydra-nolog", t0)]) and any(ovh[("hydra", t0)]):
        on, off = ovh[("hydra", t0)], ovh[("hydra-nolog", t0)]
        with_without = rps_ratio(on, off)
        p50_delta = median_of(per_round(on, off, lambda a, b: lat_of(a, "p50") - lat_of(b, "p50")))
        p(f"The access log's cost (issue #22): the Hydra rows above write one text line per request (`log.access = "
          f"\"text\"`, to stderr, which the benchmark sends to a file), as nginx writes its `access_log`. A second "
          f"Hydra at {t0} thread{'s' if t0 != '1' else ''} with `log.access = \"off\"` took its turn in each round:")
        p("")
        p(f"| access log | p50 at {conc} | p99 at {conc} | max throughput | throughput with / without (each round) |")
        p("| --- | ---: | ---: | ---: | ---: |")
        wr = median_of(with_without)
        for label, runs, last in (("text, to a file", on, f"**{wr:.2f}** ({ratios_text(with_without)})" if wr else "—"),
                                  ("off", off, "—")):
            got = [x for x in runs if x]
            p(f"| {label} | {ms(median_of(lat_of(x, 'p50') for x in got))} | {ms(median_of(lat_of(x, 'p99') for x in got))} | "
              f"{median_of(rps_of(x) for x in got):,.0f} req/s | {last} |")
        p("")
        if wr:
            headline.append(f"Access log (text, one line per request): {wr:.2f}× the throughput without it, "
                            f"p50 {us_delta(0, p50_delta)} against it off (medians of {rounds_text})")
    p("*OS threads in Hydra* counts every thread of the process (`/proc/PID/task`) just after start: the "
      "workers and any helper threads, so a Hydra that ignored `HYDRA_THREADS` would show the same count at each row. "
      "CPU time is Hydra's over all its runs at that thread count (warm-ups included).")
    p("")
    allocs_section()

# ---- streaming ------------------------------------------------------------------------
def stream_section(label):
    d, h = load(f"stream-{label}-direct"), load(f"stream-{label}-hydra")
    if not d or not h:
        return
    x = load(f"stream-{label}-nginx")  # nginx as a plain proxy, when it ran
    n = int(facts[f"stream.{label}.streams"])
    target = int(facts.get("stream.big_target", n))
    why = ""
    if label == "big":
        why = (f" (the {target:,} asked for)" if n >= target else
               f" (the most the open-file limit of {facts.get('stream.fd_limit', '?')} allows; {target:,} asked for)")
    p(f"### {n:,} concurrent streams{why}")
    p("")
    if x:
        p("| | direct | through Hydra | added | through nginx | added |")
        p("| --- | ---: | ---: | ---: | ---: | ---: |")
    else:
        p("| | direct | through Hydra | added |")
        p("| --- | ---: | ---: | ---: |")
    nx = lambda cell: f" {cell} |" if x else ""
    for key, name in (("ttfc_ms", "time to first chunk"), ("gap_ms", "gap between chunks"), ("latency_ms", "whole stream")):
        for q in ("p50", "p99"):
            p(f"| {name}, {q} | {ms(d[key][q])} | {ms(h[key][q])} | {us_delta(d[key][q], h[key][q])} |"
              + (nx(ms(x[key][q])) + nx(us_delta(d[key][q], x[key][q])) if x else ""))
    p(f"| streams completed in the window / errors | {d['ok']:,} / {d['errors']['total']} | {h['ok']:,} / {h['errors']['total']} | |"
      + (nx(f"{x['ok']:,} / {x['errors']['total']}") + nx("") if x else ""))
    p(f"| chunks timed | {d['gap_ms']['count']:,} gaps | {h['gap_ms']['count']:,} gaps | |"
      + (nx(f"{x['gap_ms']['count']:,} gaps") + nx("") if x else ""))
    idle, peak = int(facts[f"stream.{label}.hydra_idle_rss_kb"]), int(facts[f"stream.{label}.hydra_peak_rss_kb"])
    cpu_s, wall = float(facts[f"stream.{label}.hydra_cpu_s"]), float(facts[f"stream.{label}.wall_s"])
    p("")
    if label == "big":
        p(f"Hydra's added time to first chunk, p99, over direct at {n:,} streams: "
          f"**{us_delta(d['ttfc_ms']['p99'], h['ttfc_ms']['p99'])}** (issue #17 asks for ≤ 5 ms at 10,000 streams, "
          "or the most the descriptor limit allows)"
          + (f"; nginx's, on the same machine and sims: **{us_delta(d['ttfc_ms']['p99'], x['ttfc_ms']['p99'])}**." if x else "."))
        p("")
    os_threads = facts.get(f"stream.{label}.hydra_os_threads", "?")
    os_threads = f"{os_threads} OS thread{'' if os_threads == '1' else 's'}"
    p(f"Hydra: resident memory {mib(idle)} idle, **{mib(peak)} peak** (VmHWM) — about "
      f"{(peak - idle) / n:.1f} KiB per stream; CPU {cpu_s:.1f} s over the {wall:.1f} s run "
      f"= **{100 * cpu_s / wall:.0f}% of one core** (threads: {threads_text}; {os_threads} in the process). "
      f"{facts[f'stream.{label}.sim_nodes']} sim nodes with 1024 slots each.")
    if x and f"stream.{label}.nginx_cpu_s" in facts:
        xcpu, xwall = float(facts[f"stream.{label}.nginx_cpu_s"]), float(facts[f"stream.{label}.nginx_wall_s"])
        workers = facts.get(f"stream.{label}.nginx_workers", "?")
        p("")
        p(f"nginx ({workers} worker{'' if workers == '1' else 's'}, `proxy_buffering off`, keep-alive to the sims): CPU "
          f"{xcpu:.1f} s over the {xwall:.1f} s run = **{100 * xcpu / xwall:.0f}% of one core** (master and workers).")
    fds = facts.get(f"stream.{label}.hydra_peak_fds")
    if fds:
        p("")
        p(f"During the run through Hydra: Hydra held at most {int(fds):,} descriptors ({int(fds) / n:.2f} per stream; "
          f"2 would mean every stream's upstream connection stays open); the kernel dropped "
          f"{int(facts[f'stream.{label}.listen_overflows']):,} connection attempts on full accept queues "
          f"(machine-wide, so sims and Hydra alike); Hydra logged {facts[f'stream.{label}.probe_failures']} failed "
          "health probes of the (busy) sims.")
    p("")
    headline.append(f"{n:,} streams through Hydra: TTFC p50 {us_delta(d['ttfc_ms']['p50'], h['ttfc_ms']['p50'])}, "
                    f"p99 {us_delta(d['ttfc_ms']['p99'], h['ttfc_ms']['p99'])}; gap p50 {us_delta(d['gap_ms']['p50'], h['gap_ms']['p50'])}, "
                    f"p99 {us_delta(d['gap_ms']['p99'], h['gap_ms']['p99'])}; {mib(peak)} peak RSS, "
                    f"{100 * cpu_s / wall:.0f}% of a core"
                    + (f" (nginx: TTFC p50 {us_delta(d['ttfc_ms']['p50'], x['ttfc_ms']['p50'])}, "
                       f"p99 {us_delta(d['ttfc_ms']['p99'], x['ttfc_ms']['p99'])})" if x else ""))


stream_threads = facts.get("stream.threads", "default")
threads_text = "Hydra's default, `HYDRA_THREADS` unset" if stream_threads == "default" else f"`HYDRA_THREADS={stream_threads}`"
if load("stream-small-direct"):
    s = load("stream-small-direct")
    p("## 2. Streaming: many concurrent streams")
    p("")
    p("Closed loop: N workers each keep one NDJSON `/api/generate` stream open, back to back, "
      f"straight to the sims, then through a freshly started Hydra (threads: {threads_text}), then through nginx as "
      "a plain proxy (as many worker processes as the machine has cores, Hydra's default thread count; when nginx is "
      "installed). The sims generate slowly "
      f"({facts.get('stream.tps', '?')} token/s, {facts.get('stream.tokens', '?')} tokens), so every stream stays "
      f"open for seconds and all N are in flight at once. Workers start over {facts.get('stream.ramp_s', '?')} s, "
      f"the next {s['warmup_s']:g} s are not recorded, then {s['duration_s']:g} s are measured. Client source "
      "addresses are spread over 127.0.0.2-33. Resident memory from /proc/PID/status (VmRSS before, VmHWM after), "
      "CPU from /proc/PID/stat (utime + stime) over the run. "
      f"The sims send one token every {1 / float(facts.get('stream.tps', '1')):g} s, so a median gap well below that means "
      "chunks were held up and then delivered in bursts (several lines in one read, gaps of 0).")
    p("")
    stream_section("small")
    stream_section("big")
    target, limit = facts.get("stream.big_target"), facts.get("stream.fd_limit")
    big = facts.get("stream.big.streams")
    if big and target and int(big) < int(target):
        p(f"**Why not {int(target):,}:** the open-file hard limit here is {limit} and cannot be raised "
          f"(`ulimit -n` above it fails: the container lacks CAP_SYS_RESOURCE). Through a gateway each "
          f"stream holds two sockets (client side and node side), so {int(target):,} streams need more than "
          f"{2 * int(target):,} descriptors in Hydra; {int(big):,} is the largest count that fits with room "
          "for listeners and probes. With a higher limit the script runs the full 10,000.")
        p("")

# ---- routing --------------------------------------------------------------------------
routing = load("routing")
if routing:
    cmd = next((c for k, c in commands if k == "routing"), "")
    p("## 3. Routing decision (issue #4)")
    p("")
    p("One call of `routing::route()` (filters, scorers, ranking, reason text) on an indexed")
    p("snapshot of a heterogeneous fleet where every node has the model and a third hold it in")
    p("memory. Above 32 holders a random sample (8 resident + 8 other) is scored. Median of 5")
    p("repetitions of at least 0.5 s each.")
    p("")
    p(f"Command: `{cmd}`")
    p("")
    p("| nodes | median time per decision |")
    p("| ---: | ---: |")
    for b in routing["benchmarks"]:
        if b.get("aggregate_name") != "median" or not b["run_name"].startswith("BM_RouteDecision/"):
            continue
        p(f"| {b['run_name'].split('/')[1]} | {b['real_time']:.2f} {b['time_unit']} |")
        if b["run_name"].endswith("/1000"):
            headline.append(f"Routing decision at 1000 nodes: {b['real_time']:.2f} {b['time_unit']} (median)")
    p("")
    p("Aim (issue #4): under 2 microseconds at 1000 nodes.")
    p("")
    publish = {b["run_name"]: b for b in routing["benchmarks"]
               if b.get("aggregate_name") == "median" and b["run_name"].startswith("BM_Publish")}
    if publish:
        p("### Publishing a snapshot after one node changed (issue #17)")
        p("")
        p("`cluster::next_snapshot()` (what `Cluster::publish_now()` runs) on a fleet of 1000 nodes")
        p("like the one above: one node changed, the snapshot before dropped. Copy-on-write per node")
        p("copies the changed node, shares the 999 others and replaces that node's entries in a copy")
        p("of the model -> holders index; a full rebuild copies (and frees) every node and builds the")
        p("index anew, as every publish did before #17 (and as one still does when more than 1 node")
        p("in 50 changed at once). The last row is that index build alone. Same runs as above")
        p("(median of 5).")
        p("")
        p("| publish at 1000 nodes | median time |")
        p("| --- | ---: |")
        rows = [("BM_PublishOneNodeChanged/1000", "one node changed, copy-on-write per node"),
                ("BM_PublishFullRebuild/1000", "every node copied, index built anew (before #17)"),
                ("BM_PublishIndexOnly/1000", "the index built anew, alone")]
        for name, label in rows:
            if name in publish:
                b = publish[name]
                p(f"| {label} | {b['real_time']:.1f} {b['time_unit']} |")
        one, full = publish.get("BM_PublishOneNodeChanged/1000"), publish.get("BM_PublishFullRebuild/1000")
        if one and full:
            headline.append(f"Publishing a snapshot after one node changed at 1000 nodes: {one['real_time']:.1f} "
                            f"{one['time_unit']} (full rebuild: {full['real_time']:.1f} {full['time_unit']})")
        p("")

# ---- failover -------------------------------------------------------------------------
def recovery(r, failed_ms):
    """Seconds from the failure until every later request (by scheduled time) succeeds at
    normal latency (p50 of its 250 ms bucket within 1.5x the pre-failure median)."""
    fail_s = (failed_ms - r["started_unix_ms"]) / 1000
    tl = r["timeline"]
    before = [b["p50_ms"] for b in tl if b["t_s"] + 0.25 <= fail_s and b["ok"]]
    base = statistics.median(before) if before else 0
    bad = [b for b in tl if b["t_s"] + 0.25 > fail_s and (b["errors"] or (base and b["p50_ms"] > 1.5 * base))]
    if not bad:
        return 0.0, fail_s
    last = max(b["t_s"] for b in bad) + 0.25
    if last >= tl[-1]["t_s"] + 0.25:
        return None, fail_s  # still failing when the run ended
    return max(0.0, last - fail_s), fail_s


fo_who = ("hydra", "hydra-off", "nginx")
fo_label = {"hydra": "hydra", "hydra-off": "hydra, continuation off", "nginx": "nginx"}
fo = {(w, m): load(f"failover-{w}-{m}") for w in fo_who for m in ("kill", "freeze")}
if any(fo.values()):
    p("## 4. Failover: a node fails under load")
    p("")
    p(f"Open loop, {facts.get('failover.rate', '?')} streamed requests/s (10 tokens at 20 tokens/s: 0.5 s each) over three "
      f"sim processes; {facts.get('failover.fail_at_s', '?')} s in, the second sim is **killed** (SIGKILL: its "
      "connections reset, new ones refused) or **frozen** (SIGSTOP: the kernel still accepts connections, nothing "
      f"answers — a hung machine). A request unanswered after {facts.get('failover.timeout_s', '?')} s counts as failed. "
      "*Recovered after* = from the failure until every later request succeeds at normal latency (requests "
      "grouped by scheduled time in 250 ms buckets). nginx uses its defaults for failures (passive: "
      "`max_fails=1 fail_timeout=10s`, `proxy_next_upstream error timeout`).")
    p("")
    p("| failure | proxy | requests | failed (kind) | continued | gap at the switch p50 / p99 | recovered after | p50 latency |")
    p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in ("kill", "freeze"):
        for w in fo_who:
            r = fo[(w, m)]
            if not r:
                continue
            failed_ms = int(facts.get(f"failover.{w}.{m}.failed_unix_ms", "0"))
            rec, fail_s = recovery(r, failed_ms)
            end_s = r["timeline"][-1]["t_s"] + 0.25
            rec_text = f"{rec:.2f} s" if rec is not None else f"not within the run (> {end_s - fail_s:.1f} s)"
            kinds = ", ".join(f"{k} {v}" for k, v in r["errors"].items() if k != "total")
            cont = r.get("continued", 0)
            sg = r.get("switch_gap_ms") or {}
            gap_text = f"{ms(sg['p50'])} / {ms(sg['p99'])}" if cont and sg.get("p50") is not None else "–"
            p(f"| {m} | {fo_label[w]} | {r['requests']} | {r['errors']['total']}{' (' + kinds + ')' if kinds else ''} | "
              f"{cont} | {gap_text} | {rec_text} | {ms(r['latency_ms']['p50'])} |")
            headline.append(f"Failover ({m}): {fo_label[w]} {r['errors']['total']} failed of {r['requests']}, recovered: {rec_text}")
    p("")
    p("Streams in flight on the killed node: Hydra continues each on another node from where it stopped "
      "(*continued*: streams whose final chunk carries `hydra.continued`; *gap at the switch*: their longest "
      "wait between two chunks, against 50 ms between tokens normally). With `failover.continue_streams = false` "
      "Hydra ends them with an Ollama error line (`stream_error`); nginx cuts the chunked reply (`read`). Requests "
      "sent after the kill are retried on another node by both before any byte reaches the client. "
      "A frozen node refuses nothing, so only health checks can find it: Hydra probes `/api/version` every 2 s "
      "with a 2 s timeout, marks the node suspect at the first failed probe and ejects it after 3; requests it "
      "had already sent there wait until that ejection (about 10 s after the freeze with the defaults) and then fail "
      "over, so with this scenario's 5 s client deadline they count as failed; streams it had begun go on on another node "
      "once `timeouts.idle_ms` passes without a chunk (60 s by default, so here they time out too). nginx has no active checks and the connection succeeds, so it keeps sending the frozen node "
      "its share until `proxy_read_timeout` (300 s in this config, 60 s by default) marks it failed.")
    p("")

# ---- routing quality ------------------------------------------------------------------
def records(prefix):
    """Every request of the loadgen runs named prefix-*: (model, ok, ttft_ms, latency_ms)."""
    rows = []
    for name in sorted(os.listdir(work)):
        if name.startswith(prefix + "-") and name.endswith(".tsv"):
            model = name[len(prefix) + 1:-4]
            for line in open(os.path.join(work, name)):
                _, ok, ttft, latency = line.split("\t")
                rows.append((model, ok == "1", float(ttft), float(latency)))
    return rows


def nearest_rank(values, q):
    values = sorted(values)
    if not values:
        return 0.0
    return values[max(0, min(len(values), -(-q * len(values) // 100)) - 1)]


runs = {pol: records(f"quality-{pol}") for pol in ("scored", "round_robin", "least_connections")}
policies = [pol for pol, rows in runs.items() if rows]
if policies:
    fleet = sorted((k.split(".", 2)[2], v.split("|")) for k, v in facts.items() if k.startswith("quality.fleet."))
    # What each sim counted (requests by model, loads, evictions), per policy and node.
    sim_stats = {(pol, name): json.loads(facts.get(f"quality.{pol}.{name}.stats") or "{}")
                 for pol in policies for name, _ in fleet}
    seconds = float(facts.get("quality.seconds", "1"))
    p("## 5. Routing quality: Hydra's policy vs round robin vs least connections")
    p("")
    p("One heterogeneous fleet of four sims, the same for every policy (started afresh for each, so each "
      "begins with the same models resident), behind one `hydra serve` binary whose `routing.policy` "
      "setting is the only difference. Hydra is told each node's VRAM and slots, as a user would configure them.")
    p("")
    p("| node | sim flags | told to Hydra |")
    p("| --- | --- | --- |")
    for name, (_, flags, told) in fleet:
        p(f"| {name} | `{flags}` | `{told}` |")
    p("")
    p(f"Every node has all three models on disk; a cold load takes {facts.get('quality.load_s', '?')} s. Workload: "
      f"three open-loop load generators at once, one per model (`{facts.get('quality.mix', '?')}`, requests/s), "
      f"streamed replies of {facts.get('quality.tokens', '?')} tokens, for {seconds:g} s; a request unanswered after "
      f"{facts.get('quality.timeout_s', '?')} s has failed. TTFT = time to the first NDJSON line, counted from the "
      "scheduled send time. Throughput = replies completed within the window, per second. Cold loads = model "
      "loads the sims performed beyond the models resident at start (evictions in brackets).")
    p("")
    p("| policy | requests | failed | throughput | TTFT p50 | TTFT p95 | total p95 | cold loads (evictions) |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    summary = {}
    for pol in policies:
        rows = runs[pol]
        ttft = [r[2] for r in rows if r[1]]
        total = [r[3] for r in rows if r[1]]
        thr = sum(json.load(open(os.path.join(work, n)))["throughput_rps"]
                  for n in os.listdir(work)
                  if n.startswith(f"quality-{pol}-") and n.endswith(".json") and not n.endswith("-routing.json"))
        loads = evictions = 0
        for name, (_, flags, _) in fleet:
            st = sim_stats[(pol, name)]
            loads += st.get("loads", 0) - (1 if "--loaded" in flags else 0)
            evictions += st.get("evictions", 0)
        failed = sum(1 for r in rows if not r[1])
        summary[pol] = (thr, nearest_rank(ttft, 95), failed, len(rows))
        p(f"| {pol} | {len(rows)} | {failed} | {thr:.1f} req/s | {ms(nearest_rank(ttft, 50))} | "
          f"{ms(nearest_rank(ttft, 95))} | {ms(nearest_rank(total, 95))} | {loads} ({evictions}) |")
    p("")
    p("TTFT p95 by model:")
    p("")
    models = sorted({r[0] for r in runs[policies[0]]})
    # Run files name a model with ':' and '.' as '_' (quality.sh); the mix has the real names.
    names = {pair.split("=")[0].replace(":", "_").replace(".", "_"): pair.split("=")[0]
             for pair in facts.get("quality.mix", "").split()}
    p("| model | " + " | ".join(policies) + " |")
    p("| --- |" + " ---: |" * len(policies))
    for m in models:
        cells = []
        for pol in policies:
            rows = [r for r in runs[pol] if r[0] == m]
            ok = [r[2] for r in rows if r[1]]
            cells.append(f"{ms(nearest_rank(ok, 95))} ({len(rows) - len(ok)} failed)")
        p(f"| {names.get(m, m)} | " + " | ".join(cells) + " |")
    p("")
    p("Where each policy sent each model (requests the sims received; cancelled ones included):")
    p("")
    p("| policy | " + " | ".join(name for name, _ in fleet) + " |")
    p("| --- |" + " --- |" * len(fleet))
    for pol in policies:
        cells = []
        for name, _ in fleet:
            st = sim_stats[(pol, name)]
            cells.append(", ".join(f"{m} {c}" for m, c in sorted(st.get("requests_by_model", {}).items())) or "—")
        p(f"| {pol} | " + " | ".join(cells) + " |")
    p("")
    if "scored" in summary:
        thr, p95, failed, n = summary["scored"]
        best_other = max((summary[q] for q in policies if q != "scored"), key=lambda v: v[0], default=None)
        if best_other and abs(best_other[0] - thr) <= 0.02 * max(thr, best_other[0]):
            p(f"Throughput ties ({thr:.1f} vs {best_other[0]:.1f} req/s, within 2%): at this offered load the fleet can serve "
              "every request under either policy, so the policies differ in how long requests wait and how often a model is "
              "loaded, not in how many get served.")
        elif best_other and best_other[0] > thr:
            p(f"A baseline served more requests per second than Hydra's policy ({best_other[0]:.1f} vs {thr:.1f} req/s).")
        elif best_other:
            p(f"Hydra's policy served the most requests per second ({thr:.1f} vs {best_other[0]:.1f} for the best baseline).")
        p("One run per policy. Least connections follows momentary load, so its figures move from run to run "
          "more than the others' (its TTFT p95 has ranged from about 3 s to 9 s on this machine); Hydra's policy "
          "and round robin repeat closely, the sims being deterministic.")
        p("Hydra keeps each model where it is resident and waits for a slot there until the expected wait exceeds "
          "a cold load plus any slowness of the other node, and never loads a model where it would evict one in use; "
          "the baselines load wherever the turn or the connection count points.")
        parts = []
        for pol in policies:
            if pol == "scored":
                continue
            t, q, f, _ = summary[pol]
            parts.append(f"{pol} {t:.1f} req/s, TTFT p95 {ms(q)}, {f} failed")
        headline.append(f"Routing quality (mixed workload, heterogeneous fleet): Hydra's policy {thr:.1f} req/s, "
                        f"TTFT p95 {ms(p95)}, {failed} failed of {n}; " + "; ".join(parts))
    p("")

# ---- routing quality: a busy model, with and without configured capacities --------------
def ttfb_bucket(metrics_text, node, q):
    """The upper bound of the hydra_time_to_first_byte_seconds bucket holding quantile q for node."""
    buckets = []
    for line in metrics_text.splitlines():
        if line.startswith("hydra_time_to_first_byte_seconds_bucket{") and f'node="{node}"' in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return None
    for le, count in buckets:
        if count >= q / 100 * buckets[-1][1]:
            return le
    return None


busy_runs = {cap: records(f"busy-{cap}") for cap in ("configured", "none")}
busy_caps = [cap for cap, rows in busy_runs.items() if rows]
if busy_caps:
    busy_fleet = [(k.split(".", 2)[2], v.split("|")) for k, v in facts.items() if k.startswith("busy.fleet.")]
    p("### 5b. A busy model, with and without configured capacities")
    p("")
    p(f"The `make demo` fleet: one model (llama3.2:3b) asked for by {facts.get('busy.concurrency', '?')} clients at once "
      f"(closed loop, streamed replies of {facts.get('busy.tokens', '?')} tokens, {facts.get('busy.seconds', '?')} s; a cold "
      f"load takes {facts.get('busy.load_s', '?')} s). Run twice with Hydra's policy: once with each node's capacity in its "
      "URL (`#vram=..,slots=..`), once with the bare URLs, so that Hydra must learn each node's parallelism from its "
      "first-byte times (issue #16).")
    p("")
    p("| node | sim flags | told to Hydra when configured |")
    p("| --- | --- | --- |")
    for name, (_, flags, told) in busy_fleet:
        p(f"| {name} | `{flags}` | `{told}` |")
    p("")
    p("| capacities | requests | failed | throughput | TTFT p50 | TTFT p95 | "
      + " | ".join(name for name, _ in busy_fleet) + " |")
    p("| --- | ---: | ---: | ---: | ---: | ---: |" + " --- |" * len(busy_fleet))
    for cap in busy_caps:
        rows = busy_runs[cap]
        ttft = [r[2] for r in rows if r[1]]
        report = load(f"busy-{cap}") or {}
        metrics_path = os.path.join(work, f"busy-{cap}-metrics.txt")
        metrics_text = open(metrics_path).read() if os.path.exists(metrics_path) else ""
        nodes_path = os.path.join(work, f"busy-{cap}-nodes.json")
        try:
            nodes = {n["id"]: n for n in json.load(open(nodes_path)).get("nodes", [])}
        except (OSError, ValueError):
            nodes = {}
        cells = []
        for name, _ in busy_fleet:
            st = json.loads(facts.get(f"busy.{cap}.{name}.stats") or "{}")
            node_id = facts.get(f"busy.{cap}.{name}.id", "")
            served = st.get("requests_by_model", {}).get("llama3.2:3b", 0)
            p95 = ttfb_bucket(metrics_text, node_id, 95)
            n = nodes.get(node_id, {})
            learned = n.get("slots_learned", {}).get("llama3.2:3b", {})
            slots = (f"{n.get('slots', '?')} {n.get('slots_source', '?')}" if cap == "configured" or not learned
                     else f"{learned.get('slots', '?')} {learned.get('source', '?')}")
            cells.append(f"{served} req, node TTFB p95 ≤ {p95:g} s, slots {slots}" if p95 is not None
                         else f"{served} req, slots {slots}")
        p(f"| {cap} | {len(rows)} | {sum(1 for r in rows if not r[1])} | {report.get('throughput_rps', 0):.1f} req/s | "
          f"{ms(nearest_rank(ttft, 50))} | {ms(nearest_rank(ttft, 95))} | " + " | ".join(cells) + " |")
    p("")
    p("TTFT is what the clients saw (Hydra's queue included). Node TTFB p95 is the upper bound of the "
      "`hydra_time_to_first_byte_seconds` bucket holding the 95th percentile of that node's first bytes (from the "
      "request's send to the node: what queueing inside the node costs). Slots: what Hydra held the node to for this "
      "model at the end (configured, learned, or the default guess).")
    p("")
    if "none" in busy_caps:
        rows = busy_runs["none"]
        ok = [r[2] for r in rows if r[1]]
        headline.append(f"Busy model, no capacities configured: {len(rows)} requests, TTFT p95 "
                        f"{ms(nearest_rank(ok, 95))} (learned slots; see 5b)")

# ---- discovery ------------------------------------------------------------------------
disc = [load(f"discovery-{i}") for i in (1, 2, 3)]
disc = [d for d in disc if d]
if disc:
    walls = [int(facts[f"discovery.wall_ms.{i}"]) for i in (1, 2, 3) if f"discovery.wall_ms.{i}" in facts]
    p("## 6. Discovery: 40 sims on a /26")
    p("")
    p("40 sim nodes on 127.0.77.1-40 (one process), found by `hydra discover 127.0.77.0/26` (64 addresses, "
      "one port). Three scans.")
    p("")
    p("| scan | nodes found | scan time (reported) | wall time of the command |")
    p("| ---: | ---: | ---: | ---: |")
    for i, d in enumerate(disc):
        p(f"| {i + 1} | {len(d['nodes'])} | {d['elapsed_ms']} ms | {walls[i] if i < len(walls) else '?'} ms |")
    p("")
    headline.append(f"Discovery: {len(disc[0]['nodes'])} of 40 sims found on a /26 in "
                    f"{statistics.median(d['elapsed_ms'] for d in disc):.0f} ms (median scan)")

# ---- flood -----------------------------------------------------------------------------
alone, beside, junk = load("flood-alone"), load("flood-beside"), load("flood-junk")
if alone and beside and junk:
    p("## 7. Flood: thousands of made-up model names")
    p("")
    p(f"Ordinary small requests ({facts.get('flood.conc', '8')} in flight, closed loop) through Hydra over two fast "
      f"sims, alone and then beside {junk['requests']} requests for made-up model names, every one distinct "
      "(`made-up-0`, `made-up-1`, ...; open loop), each of which Hydra answers 404 after, at most once per "
      "`health.refresh_min_interval_s` (2 s), re-reading the fleet's models.")
    p("")
    p("| ordinary requests | requests | p50 latency | p99 latency |")
    p("| --- | ---: | ---: | ---: |")
    for label, r in (("alone", alone), ("beside the flood", beside)):
        p(f"| {label} | {r['requests']} | {ms(r['latency_ms']['p50'])} | {ms(r['latency_ms']['p99'])} |")
    p("")
    rb, ra = int(facts.get("flood.rss_kb_before", 0)), int(facts.get("flood.rss_kb_after", 0))
    not_found = junk["errors"].get("http_404", 0)
    p(f"The flood: {junk['requests']} requests, {not_found} answered 404 "
      f"(p50 {ms(junk['latency_ms']['p50']) if junk['ok'] else '–'}); the sims' `/api/tags` were read "
      f"{facts.get('flood.tags_reads', '?')} times in all (start-up included). `/metrics`: "
      f"{facts.get('flood.metrics_lines_before', '?')} lines before, {facts.get('flood.metrics_lines_after', '?')} after. "
      f"Gateway RSS: {rb / 1024:.1f} MiB before, {ra / 1024:.1f} MiB after.")
    p("")
    headline.append(f"Flood of {junk['requests']} made-up model names: ordinary requests' p50 "
                    f"{ms(alone['latency_ms']['p50'])} alone, {ms(beside['latency_ms']['p50'])} beside it; "
                    f"RSS {rb / 1024:.1f} -> {ra / 1024:.1f} MiB")

# ---- cache -----------------------------------------------------------------------------
c_direct, c_miss, c_l1 = load("cache-direct"), load("cache-miss"), load("cache-l1")
c_l2, c_l3 = load("cache-cache-l2"), load("cache-cache-l3")
c_off, c_on = load("cache-repeats-off"), load("cache-repeats-on")
if c_direct and c_miss and c_l1:
    p("## 8. Response cache: a hit per tier, and a workload that repeats")
    p("")
    p("One sim answering 32 tokens at 2,000 tokens/s; Hydra at one thread. The same deterministic "
      "`/api/generate` (temperature 0) one at a time: answered by the sim directly, through Hydra with "
      "the cache off (every request reaches the sim), and through Hydra with the cache on (every request "
      "after the first is an L1 hit). L2 and L3: distinct questions stored through a gateway, the gateway "
      "restarted (its memory empty), then each asked once (open loop): every answer comes from SQLite "
      "(L2), or, with no L2 and a `redis-server` beside it, from Redis (L3).")
    p("")
    p("| answered by | requests | p50 latency | p99 latency |")
    p("| --- | ---: | ---: | ---: |")
    rows = [("the sim, directly", c_direct), ("the sim, through Hydra (cache off)", c_miss),
            ("Hydra's L1 (memory)", c_l1)]
    if c_l2:
        rows.append(("Hydra's L2 (SQLite), after a restart", c_l2))
    if c_l3:
        rows.append(("Hydra's L3 (Redis), after a restart", c_l3))
    for label, r in rows:
        p(f"| {label} | {r['requests']} | {ms(r['latency_ms']['p50'])} | {ms(r['latency_ms']['p99'])} |")
    p("")
    for tier in ("l2", "l3"):
        if facts.get(f"cache.cache-{tier}.stats"):
            p(f"{tier.upper()} run, the gateway's `/stats` tiers afterwards: `{facts[f'cache.cache-{tier}.stats']}`")
            p("")
    headline.append(f"Response cache: an L1 hit answers in {ms(c_l1['latency_ms']['p50'])} (p50) where the sim "
                    f"takes {ms(c_direct['latency_ms']['p50'])}" +
                    (f"; L2 {ms(c_l2['latency_ms']['p50'])}" if c_l2 else "") +
                    (f"; L3 {ms(c_l3['latency_ms']['p50'])}" if c_l3 else ""))
    if c_off and c_on:
        n_off = int(facts.get("cache.repeats_off.node_requests", 0))
        n_on = int(facts.get("cache.repeats_on.node_requests", 0))
        p("Half the questions repeat (each asked twice in a row, 8 in flight, closed loop):")
        p("")
        p("| cache | requests | requests/s | p50 latency | requests that reached the node |")
        p("| --- | ---: | ---: | ---: | ---: |")
        for label, r, n in (("off", c_off, n_off), ("on", c_on, n_on)):
            p(f"| {label} | {r['requests']} | {r['throughput_rps']:.0f} | {ms(r['latency_ms']['p50'])} | {n} |")
        p("")
        if c_off["throughput_rps"] > 0 and c_on["requests"] > 0:
            headline.append(f"Half the questions repeated: {c_on['throughput_rps'] / c_off['throughput_rps']:.2f}x "
                            f"the throughput with the cache on; {n_on} of {c_on['requests']} requests reached the node "
                            f"({n_off} of {c_off['requests']} with it off)")

# ---- several gateways ------------------------------------------------------------------
def gw_records(name):
    """(due_unix_ms, ok, latency_ms) of every request of a loadgen --records file."""
    path = os.path.join(work, name + ".tsv")
    rows = []
    if os.path.exists(path):
        for line in open(path):
            due, ok, _, latency = line.split("\t")
            rows.append((float(due), ok == "1", float(latency)))
    return rows


def commandstats(setup):
    """Redis's INFO commandstats saved after a setup's runs: {command: calls}."""
    path = os.path.join(work, f"gateways-{setup}-commandstats.txt")
    out = {}
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("cmdstat_"):
                name, _, rest = line.strip()[len("cmdstat_"):].partition(":")
                fields = dict(kv.split("=", 1) for kv in rest.split(",") if "=" in kv)
                out[name] = int(fields.get("calls", "0"))
    return out


def per_request_us(ticks, requests):
    if ticks is None or not requests:
        return "—"
    return f"{int(ticks) / os.sysconf('SC_CLK_TCK') / requests * 1e6:.0f} µs"


gw_setups = [("direct", "the sims, directly"), ("nginx", "nginx → the sims (reference)"),
             ("one", "nginx → 1 gateway, no Redis"), ("one-redis", "nginx → 1 gateway with Redis"),
             ("three-redis", "nginx → 3 gateways sharing one Redis")]
gw_lat = {k: load(f"gateways-latency-{k}") for k, _ in gw_setups}
gw_thr = {k: load(f"gateways-throughput-{k}") for k, _ in gw_setups}
if "gateways.skipped" in facts or (gw_lat["direct"] and gw_thr["direct"]):
    p("## 9. Several gateways: shared state through Redis, and a gateway killed")
    p("")
    if "gateways.skipped" in facts:
        p(f"Not measured: {facts['gateways.skipped']}.")
        p("")
    else:
        conc, max_conc = gw_lat["direct"]["concurrency"], gw_thr["direct"]["concurrency"]
        p(f"**This machine has {os.cpu_count()} cores**, shared by the load generator, nginx, every gateway, Redis and "
          "the sims, so three gateways here show what shared state costs, not how gateways scale: three on "
          f"{os.cpu_count()} cores compete for the same CPU as one.")
        p("")
        p("The same 4 sims as in scenario 1 (100,000 tokens/s; the same small non-streamed `/api/generate`, "
          "`num_predict` 1), reached directly, through nginx alone, and through nginx (one worker, round robin, "
          "HTTP/1.1 keep-alive) in front of: one `hydra serve` without Redis; one with shared state on "
          "(`HYDRA_REDIS_URL`, its own `redis-server`); three sharing one `redis-server` (`HYDRA_GATEWAY_ID` gw1..gw3). "
          "Every gateway at one thread (`HYDRA_THREADS=1`) with the response cache off (`HYDRA_CACHE_MODE=off`), so every "
          "request reaches a sim and takes a slot lease, which with Redis is confirmed by a Lua script (one awaited round "
          "trip) and given back by another (sent without waiting). Closed loop: latency at "
          f"{conc} in flight, throughput at {max_conc}; {gw_lat['direct']['warmup_s']:g} s warm-up, then "
          f"{gw_lat['direct']['duration_s']:g} s measured. Added latency is against the sims directly, so it includes "
          "nginx's hop (the reference row shows that hop alone)."
          + (f" CPU time stolen from this virtual machine by its host during the scenario: {facts['gateways.steal_pct']}%."
             if "gateways.steal_pct" in facts else ""))
        p("")
        p(f"| path | p50 at {conc} | p99 at {conc} | added p50 | added p99 | throughput (at {max_conc}) | errors | "
          "Redis commands per request | gateway CPU per request | Redis CPU per request |")
        p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        d = gw_lat["direct"]["latency_ms"]
        gw_summary = {}
        for key, label in gw_setups:
            l, t = gw_lat[key], gw_thr[key]
            if not l or not t:
                continue
            added50 = "—" if key == "direct" else us_delta(d["p50"], l["latency_ms"]["p50"])
            added99 = "—" if key == "direct" else us_delta(d["p99"], l["latency_ms"]["p99"])
            errs = l["errors"]["total"] + t["errors"]["total"]
            requests = int(facts.get(f"gateways.{key}.requests", "0"))
            cmds = "—"
            if f"gateways.{key}.redis_commands" in facts and requests:
                idle = float(facts.get(f"gateways.{key}.idle_commands_per_s", "0"))
                wall = float(facts.get(f"gateways.{key}.wall_s", "0"))
                raw = int(facts[f"gateways.{key}.redis_commands"])
                per = max(0.0, raw - idle * wall) / requests
                cmds = f"**{per:.2f}**"
                gw_summary[key] = per
            p(f"| {label} | {ms(l['latency_ms']['p50'])} | {ms(l['latency_ms']['p99'])} | {added50} | {added99} | "
              f"{t['throughput_rps']:,.0f} req/s | {errs} | {cmds} | "
              f"{per_request_us(facts.get(f'gateways.{key}.gateway_cpu_ticks'), requests)} | "
              f"{per_request_us(facts.get(f'gateways.{key}.redis_cpu_ticks'), requests)} |")
        p("")
        p("*Redis commands per request*: the gateways' `components.shared_state.redis_commands` (GET /health, summed over "
          "them) read before and after both runs of the row, less what they send when idle (beats: measured over "
          f"{facts.get('gateways.idle_s', '?')} s just before: "
          + ", ".join(f"{float(facts[f'gateways.{k}.idle_commands_per_s']):.1f}/s for {k}" for k in ("one-redis", "three-redis")
                      if f"gateways.{k}.idle_commands_per_s" in facts)
          + ", pro rata), divided by the requests the sims received over the same window (warm-ups included). "
          "CPU per request: utime + stime from /proc over the same window (all the row's gateways together; Redis alone), "
          "divided likewise. Redis errors reported by the gateways at the end: "
          + ", ".join(f"{k} {facts[f'gateways.{k}.redis_errors']}" for k in ("one-redis", "three-redis")
                      if f"gateways.{k}.redis_errors" in facts) + ".")
        p("")
        p("One run per setup. From run to run on this machine the gateway rows move more than the direct and nginx "
          "rows; the row of one gateway with Redis moves most (from about 2,900 to 5,400 req/s at 64 in flight over four "
          "runs on a quiet machine when this scenario was written, against 8,700 to 10,800 without Redis and 4,300 to "
          "4,600 for three sharing Redis). Redis commands per request, and the failures when a gateway is killed, "
          "were the same in every run.")
        p("")
        p("A request through a gateway with shared state sends Redis: `EVAL` of the acquire script (awaited: the slot "
          "is confirmed before the request goes to the node), `EVAL` of the release script when it ends (not awaited; "
          "the script also PUBLISHes `freed`, which wakes requests queued at other gateways), and one `PUBLISH` of the "
          "request record with its routing decision, which the other gateways show on their /events and dashboards.")
        p("")
        for key, label in gw_setups:
            stats, requests = commandstats(key), int(facts.get(f"gateways.{key}.requests", "0"))
            if not stats or not requests:
                continue
            top = sorted(stats.items(), key=lambda kv: -kv[1])
            p(f"What Redis counted per request, {label} (`INFO commandstats` over the same runs, reset before them; "
              "commands the Lua scripts run are counted too, beats and the `/health` reads included): "
              + ", ".join(f"`{name}` {calls / requests:.2f}" for name, calls in top if calls / requests >= 0.005) + ".")
            p("")
        one, one_r, three = gw_thr.get("one"), gw_thr.get("one-redis"), gw_thr.get("three-redis")
        if one and one_r and three:
            headline.append(f"Several gateways ({os.cpu_count()} cores, behind nginx): 1 gateway {one['throughput_rps']:,.0f} req/s, "
                            f"1 with Redis {one_r['throughput_rps']:,.0f} req/s, 3 sharing Redis {three['throughput_rps']:,.0f} req/s; "
                            "Redis commands per request "
                            + ", ".join(f"{v:.2f} ({'1 gateway' if k == 'one-redis' else '3 gateways'})" for k, v in gw_summary.items()))

        kill = load("gateways-kill")
        rows = gw_records("gateways-kill")
        if kill and rows:
            killed = int(facts.get("gateways.kill.unix_ms", "0"))
            failed = [r for r in rows if not r[1]]
            before = [r for r in failed if r[0] < killed]
            after = [r for r in failed if r[0] >= killed]
            last_end = max((r[0] + r[2] for r in failed), default=None)
            last_sent_after = max((r[0] for r in after), default=None)
            kinds = ", ".join(f"{k} {v}" for k, v in kill["errors"].items() if k != "total")
            p("### 9b. One of three gateways killed under load")
            p("")
            p(f"The three gateways sharing Redis, behind nginx: open loop, {facts.get('gateways.fo_rate', '?')} streamed "
              "requests/s (a scripted prompt the same sims answer with 10 tokens at 20 tokens/s: 0.5 s each, so about "
              f"{float(facts.get('gateways.fo_rate', '0')) / 2:.0f} are in flight), and {facts.get('gateways.fo_kill_at_s', '?')} s "
              f"in, gateway gw2 is SIGKILLed. A request unanswered after {facts.get('gateways.fo_timeout_s', '?')} s has failed. "
              f"nginx is set to `server ... {facts.get('gateways.nginx_server_opts', '')};` for each gateway and "
              f"`{facts.get('gateways.nginx_location_extra', '')}` (passive checks: the first failed connection marks a gateway "
              "down for 5 s and the request goes to the next one). nginx never passes a POST on once it was sent "
              "(that would take `non_idempotent`, not set), so the streams gw2 was serving are cut.")
            p("")
            p("| requests | failed (kind) | of them sent before the kill (in flight) | sent after the kill | "
              "last error seen after the kill | p50 latency |")
            p("| ---: | ---: | ---: | ---: | ---: | ---: |")
            last_text = f"{max(0.0, (last_end - killed) / 1000):.2f} s" if last_end is not None else "none"
            p(f"| {kill['requests']} | {kill['errors']['total']}{' (' + kinds + ')' if kinds else ''} | {len(before)} | "
              f"{len(after)} | {last_text} | {ms(kill['latency_ms']['p50'])} |")
            p("")
            if after:
                p(f"The last failed request sent after the kill was sent {(last_sent_after - killed) / 1000:.2f} s after it; "
                  "every later one succeeded.")
            else:
                p("No request sent after the kill failed: nginx's connection to gw2 was refused and it passed the request to "
                  "another gateway at once, so the errors stopped with the streams gw2 had in progress.")
            held = facts.get("gateways.kill.held_before", "")
            returned, unlisted = facts.get("gateways.kill.leases_returned_s"), facts.get("gateways.kill.unlisted_s")
            p("")
            p(f"gw2's slot leases in Redis just before the kill (`HGETALL hydra:held:gw2`): `{held or 'none'}`. They stopped "
              "counting against the nodes' slots "
              + (f"**{float(returned):.1f} s** after the kill" if returned else "not within the watch")
              + f" (when gw2's `hydra:gw:gw2` key expired: the acquire script counts only live gateways' holdings; "
              f"`HYDRA_LEASE_TTL_S` = {facts.get('gateways.lease_ttl_s', '?')}), and gw1's /health "
              + (f"stopped listing gw2 after {float(unlisted):.1f} s" if unlisted else "still listed gw2 at the end of the watch")
              + ". Until then the surviving gateways count those slots as taken; with 1,024 slots per sim here that "
              "costs nothing, on a node with few slots it holds back that many requests for up to the TTL.")
            p("")
            headline.append(f"A gateway killed under load (3 behind nginx, {facts.get('gateways.fo_rate', '?')} streams/s): "
                            f"{kill['errors']['total']} failed of {kill['requests']} ({len(before)} in flight on it, "
                            f"{len(after)} sent after), last error {last_text} after the kill"
                            + (f"; its leases returned after {float(returned):.1f} s" if returned else ""))
        conf = os.path.join(work, "gateways-nginx.conf.txt")
        if os.path.exists(conf):
            p("The nginx.conf generated for the three gateways (the other rows differ only in the `server` lines):")
            p("")
            p("```nginx")
            p(open(conf).read().rstrip())
            p("```")
            p("")

# ---- conversations ----------------------------------------------------------------------
conv_label = {"scored": "Hydra's policy (prefix scorer on, the default)",
              "scored_noprefix": "Hydra's policy, `HYDRA_ROUTING_PREFIX_WEIGHT=0`",
              "least_connections": "least connections", "round_robin": "round robin"}
conv_policies = [pol for pol in facts.get("conversations.policies", "").split() if load(f"conv-{pol}")]
if conv_policies:
    conv_nodes = facts.get("conversations.nodes", "").split()
    first = load(f"conv-{conv_policies[0]}")
    p("## 10. Conversations: multi-turn chats on nodes with a prompt cache")
    p("")
    p("Four sims of different speeds and slots, one model resident on all, `hydra serve` in front (each node's "
      "slots in its URL, `#slots=N`). Each sim keeps a prompt cache per slot, as Ollama's runner does: a slot "
      "holds the tokens of its last request (prompt and reply; the sim counts one token per word), and a request "
      "evaluates only what its slot does not already hold, at the node's prompt rate. The sims choose slots as "
      "the runner does with `OLLAMA_MULTIUSER_CACHE=1` (`hydra sim --multiuser-cache`): a slot whose whole content "
      "begins the prompt, else the least recently used one with the longest shared prefix copied in, so "
      "conversations that share only the system prompt keep their own slots. "
      "Each policy gets a freshly started fleet (every slot's cache empty).")
    p("")
    p("| node | slots | generation | prompt evaluation |")
    p("| --- | ---: | ---: | ---: |")
    for name in conv_nodes:
        slots, tps, ptps = (facts.get(f"conversations.fleet.{name}", "? ? ?").split() + ["?"] * 3)[:3]
        p(f"| {name} | {slots} | {tps} tokens/s | {ptps} tokens/s |")
    p("")
    dw, th = first["doc_words"], first["think_s"]
    p(f"Workload (`bench/conversations.py`, seed {first['seed']}, the same for every policy): {first['conversations']} "
      f"conversations of {first['turns_per_conversation']} turns on `/api/chat`, streamed, `num_predict` "
      f"{first['num_predict']}. The first turn of each is a `system` message every conversation shares "
      f"({first['system_words']:,} words) and a user message with the conversation's own document ({dw[0]:,} to "
      f"{dw[1]:,} words) and a question; each later turn appends the reply as it was streamed and a short new "
      f"question, so the prompt grows as a chat's does. Conversations begin open loop over {first['spread_s']:g} s; "
      f"the next question follows a reply after {th[0]:g} to {th[1]:g} s of thinking. A turn not finished within "
      f"{first['timeout_s']:g} s has failed. TTFT = from sending a turn to the first chunk with content "
      "(Hydra's queue and the prompt evaluation included). Turns/s = turns completed over the run time (first "
      "send to last reply). Prompt tokens: the sims' `/_sim/stats` after the run, summed over the four. "
      "*Same node* = later turns served by the node that served the conversation's previous turn (`X-Hydra-Node`). "
      "*History cached* = later turns that evaluated under a tenth of their prompt (their `prompt_eval_count`): their own "
      "conversation was still in a slot of the node they reached.")
    p("")
    conv = {}
    for pol in conv_policies:
        s = load(f"conv-{pol}")
        stats = [json.loads(facts.get(f"conversations.{pol}.{n}.stats") or "{}") for n in conv_nodes]
        if stats and all("prompt_tokens_evaluated" in st for st in stats):
            evaluated = sum(st["prompt_tokens_evaluated"] for st in stats)
            reused = sum(st.get("prompt_tokens_reused", 0) for st in stats)
        else:
            evaluated, reused = s["prompt_eval_count_sum"], None
        conv[pol] = (s, evaluated, reused, stats)
    base = conv.get("least_connections")

    def conv_of(pair):
        return f"{pair[0]} of {pair[1]}" if pair and pair[1] else "—"

    def vs_base(v, b):
        return f"{v / b:.2f}" if v is not None and b else "—"

    p("| policy | turns ok | failed | TTFT p50 | TTFT p95 | turns/s | run time | prompt tokens evaluated | "
      "reused from a slot's cache | TTFT p50 vs least connections | evaluated vs least connections | same node | "
      "history cached |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for pol in conv_policies:
        s, evaluated, reused, _ = conv[pol]
        t = s["ttft_ms"]
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(s["failed_by_kind"].items()))
        failed = f"{s['failed']}" + (f" ({kinds})" if kinds else "")
        if s.get("skipped"):
            failed += f", {s['skipped']} not sent (deadline)"
        same, later = s["same_node_as_previous_turn"]
        p(f"| {conv_label.get(pol, pol)} | {s['ok']} of {s['turns_planned']} | {failed} | "
          f"{ms(t['p50']) if t['p50'] is not None else '—'} | {ms(t['p95']) if t['p95'] is not None else '—'} | "
          f"{s['throughput_tps']:.2f} | {s['seconds']:.1f} s | {evaluated:,} | {'—' if reused is None else f'{reused:,}'} | "
          f"{vs_base(t['p50'], base[0]['ttft_ms']['p50']) if base else '—'} | {vs_base(evaluated, base[1]) if base else '—'} | "
          f"{f'{same} of {later}' if later else '—'} | {conv_of(s.get('history_cached'))} |")
    p("")
    p("Where the turns went (requests each sim received; prompt tokens it evaluated / found cached):")
    p("")
    p("| policy | " + " | ".join(conv_nodes) + " |")
    p("| --- |" + " ---: |" * len(conv_nodes))
    for pol in conv_policies:
        cells = []
        for st in conv[pol][3]:
            n = st.get("requests_by_path", {}).get("/api/chat", 0)
            cell = f"{n}"
            if "prompt_tokens_evaluated" in st:
                cell += f" ({st['prompt_tokens_evaluated']:,} / {st.get('prompt_tokens_reused', 0):,})"
            cells.append(cell)
        p(f"| {conv_label.get(pol, pol)} | " + " | ".join(cells) + " |")
    p("")
    if "scored" in conv and base:
        s, evaluated, _, _ = conv["scored"]
        b, b_eval = base[0], base[1]
        ttft_ratio = s["ttft_ms"]["p50"] / b["ttft_ms"]["p50"] if s["ttft_ms"]["p50"] is not None and b["ttft_ms"]["p50"] else None
        eval_ratio = evaluated / b_eval if b_eval else None
        thr_ratio = s["throughput_tps"] / b["throughput_tps"] if b["throughput_tps"] else None
        checks = [("TTFT p50 at most a third of least connections'", ttft_ratio is not None and ttft_ratio <= 1 / 3,
                   f"{ttft_ratio:.2f}x" if ttft_ratio is not None else "—"),
                  ("prompt tokens evaluated at most 0.3x", eval_ratio is not None and eval_ratio <= 0.3,
                   f"{eval_ratio:.2f}x" if eval_ratio is not None else "—"),
                  ("throughput no lower", thr_ratio is not None and thr_ratio >= 1.0,
                   f"{thr_ratio:.2f}x" if thr_ratio is not None else "—")]
        met = all(ok for _, ok, _ in checks) and s["failed"] == 0
        p("Goal (the prefix scorer's issue), Hydra's policy with the prefix scorer against least connections: "
          + "; ".join(f"{what}: {value} ({'yes' if ok else 'no'})" for what, ok, value in checks)
          + f"; failures {s['failed']}. **{'Met' if met else 'Not met'}**.")
        p("")
        p("One run per policy. The sims are deterministic, but which turn finds which slot free depends on timing, "
          "so the cache figures of the policies that follow load (least connections, and Hydra's) move from run to run.")
        p("")
        headline.append(f"Conversations ({s['conversations']} chats x {s['turns_per_conversation']} turns, "
                        f"prompt cache per slot): prefix scorer TTFT p50 "
                        f"{ms(s['ttft_ms']['p50']) if s['ttft_ms']['p50'] is not None else '—'} vs least connections "
                        f"{ms(b['ttft_ms']['p50']) if b['ttft_ms']['p50'] is not None else '—'}; prompt tokens evaluated "
                        f"{checks[1][2]}, throughput {checks[2][2]} of least connections'; goal {'met' if met else 'not met'}")

# ---- commands -------------------------------------------------------------------------
p("## Exact commands")
p("")
p("Ports are picked free at run time; `$WORK` is a temporary directory. Load generator runs:")
p("")
p("```")
for k, c in commands:
    p(f"{k}: {c}")
p("```")
p("")
p("Servers:")
p("")
p("```")
for k in sorted(facts):
    if k.endswith("_cmd"):
        p(f"{k}: {facts[k]}")
p("```")
nginx_conf = os.path.join(work, "nginx.conf.txt")
if os.path.exists(nginx_conf):
    p("")
    p("Generated nginx.conf (overhead scenario, the last thread count; the others differ only in `worker_processes`):")
    p("")
    p("```nginx")
    p(open(nginx_conf).read().rstrip())
    p("```")
p("")

# The headline goes first, after the header. Paths are shown relative to the repository.
text = "\n".join(out).replace(work, "$WORK").replace(os.getcwd() + "/", "")
marker = "## 1." if "## 1." in text else "## "
intro, _, rest = text.partition(marker)
summary = "## Headline\n\n" + "\n".join(f"- {h}" for h in headline) + "\n\n"
print(intro + summary + marker + rest if rest else text)
