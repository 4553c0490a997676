#!/usr/bin/env python3
"""Multi-turn chat load for bench scenario 10 (bench/scenarios/conversations.sh): N conversations
of T turns each against one Ollama-compatible /api/chat, streamed, as people chatting with a
long shared system prompt and a long document of their own.

Every conversation's first turn is the shared system prompt (a `system` message, the same words
for all; none with --system-words 0) and a user message holding the conversation's document (between --doc-min and --doc-max
words) and a question; each later turn appends the assistant's reply exactly as it was streamed
and a new short question, so the prompt grows as a real chat's does. Conversations begin open
loop (arrivals spread uniformly over --spread seconds); within one, the next question is sent a
think time (uniform between --think-min and --think-max seconds) after the previous reply ended.
Every text, arrival and think time comes from --seed, so every run (and every policy) sends the
same conversations on the same schedule; only the replies (which name the node) differ.

One thread per conversation, the standard library only (http.client). Every request has a
deadline (--timeout); no turn starts after --deadline seconds from the start; a failed turn is
recorded and the conversation goes on (with whatever part of the reply arrived), never crashes
the run. Writes one line per turn (--records, TSV) and a JSON summary (--out); prints a one-line
summary on stderr.

Records (tab-separated, no header): conversation, turn, start_s, ttft_ms, end_s, status, node,
prompt_eval_count, prompt_words, reply_words. start_s and end_s count from the run's start
(started_unix_ms in the summary); ttft_ms is from the send to the first chunk with content
(empty when none came); status is ok, or why not: http_NNN, timeout, connect, io, stream_error,
cut (the stream ended without its final chunk), bad_json, skipped (not sent: the run's deadline
had passed); node is the X-Hydra-Node response header (empty when absent); prompt_eval_count is
the final chunk's (empty when none).
"""
import argparse
import http.client
import json
import random
import socket
import sys
import threading
import time
import urllib.parse

# Words the texts are made of: plain English, so a human reading a request sees prose-like text.
VOCAB = """
account across action address affect agree allow amount answer appear apply approach area argue
arrive article assume attack author available avoid balance base bear beat become begin behavior
believe benefit better beyond billion board body border bring budget build business buy capital
care carry case catch cause center central chance change charge check choice church citizen city
claim clear close coach cold collect college color common community company compare condition
consider contain continue control cost could country couple course court cover create crime
culture current customer cycle damage data deal debate decade decide deep defense degree deliver
demand depend describe design detail determine develop direct discover discuss disease distance
doctor door draw dream drive early east economy edge effect effort eight either election element
energy enjoy enough enter entire environment equal establish evening event evidence exactly
example expect experience explain factor family field figure final finance finger finish focus
follow force foreign forget form forward friend front future garden general glass goal ground
group grow guess health heart heavy history hold hospital hotel house huge human idea identify
image impact improve include increase indicate industry inside instead interest issue item join
judge keep kitchen knowledge land language large later lawyer leader learn least leave legal
letter level light limit listen little local machine maintain major manage market material matter
measure media medical member memory mention message method middle might military million minute
mission model modern moment money month morning mother movement music nation nature near network
never night north note notice number object occur offer office often operation option order
organize others outside owner paper parent partner party pattern peace people perform period
person phone physical picture piece place plan plant player point police policy political
popular population position power prepare present pressure pretty prevent price private problem
process produce product program project property protect prove provide public purpose quality
question quickly radio range rather reach reason receive recent record reduce reflect region
relate remain remember report represent require research resource respond result return reveal
right rise river road rock room route rule safe save scene school science season second section
security seek sense series serious serve service seven several shake share shoulder side sign
similar simple single sister site size skill small social society soldier source south space
speak special spend sport spring staff stage standard start state station stay step still stock
store story strategy street strong structure student study style subject success suggest summer
support surface system table task teach team technology tend term test theory thing third thought
thousand three through throw today together tonight total tough toward town trade training travel
treat tree trial trouble true truth turn type under unit until upon usually value various victim
view visit voice wait walk wall watch water weapon weight west whatever whole window winter within
without worker world write wrong yard year yellow young
""".split()


def text(rng, n):
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def nearest_rank(values, q):
    """The q-th percentile by nearest rank (as bench/report.py computes it); None when empty."""
    values = sorted(values)
    if not values:
        return None
    return values[max(0, min(len(values), -(-q * len(values) // 100)) - 1)]


class Plan:
    """Everything a run sends that does not depend on the replies, derived from the seed."""

    def __init__(self, a):
        rng = random.Random(f"{a.seed}/system")
        intro = "You are a careful assistant. Answer from the document only.".split()
        words = intro[:a.system_words] + text(rng, max(0, a.system_words - len(intro))).split()
        self.system = " ".join(words)  # empty (--system-words 0): no system message at all
        self.arrivals, self.docs, self.questions, self.thinks = [], [], [], []
        sched = random.Random(f"{a.seed}/schedule")
        for c in range(a.conversations):
            self.arrivals.append(sched.uniform(0, a.spread) if a.spread > 0 else 0.0)
            r = random.Random(f"{a.seed}/conversation/{c}")
            words = r.randint(a.doc_min, max(a.doc_min, a.doc_max))
            # A first word of its own, so that two documents share nothing after the system prompt.
            self.docs.append(f"Document-{a.seed}-{c}. " + text(r, max(0, words - 1)))
            self.questions.append([f"Question {t + 1}: what does the document say about {r.choice(VOCAB)} "
                                   f"and {r.choice(VOCAB)}, and why does it {r.choice(VOCAB)} the {r.choice(VOCAB)}?"
                                   for t in range(a.turns)])
            self.thinks.append([r.uniform(a.think_min, max(a.think_min, a.think_max)) for _ in range(a.turns)])


class Run:
    def __init__(self, a):
        self.a = a
        u = urllib.parse.urlsplit(a.target)
        if u.scheme != "http" or not u.hostname:
            raise SystemExit(f"conversations: --target must be http://HOST:PORT/..., not {a.target!r}")
        self.host, self.port = u.hostname, u.port or 80
        self.path = u.path or "/api/chat"
        self.plan = Plan(a)
        self.lock = threading.Lock()
        self.records = []
        self.t0 = 0.0           # monotonic start of the run
        self.deadline = 0.0     # monotonic: no turn starts after it

    def turn(self, messages):
        """Sends one turn; returns (status, node, ttft_s or None, prompt_eval_count or None, reply text)."""
        a = self.a
        body = json.dumps({"model": a.model, "messages": messages, "stream": True,
                           "options": {"num_predict": a.num_predict}}).encode()
        sent = time.monotonic()
        until = sent + a.timeout
        status, node, ttft, pec, parts = "io", "", None, None, []
        conn = http.client.HTTPConnection(self.host, self.port, timeout=a.timeout)
        try:
            try:
                conn.connect()
            except OSError:
                return "connect", node, ttft, pec, ""
            sock = conn.sock
            conn.request("POST", self.path, body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            node = resp.getheader("X-Hydra-Node", "") or ""
            if resp.status != 200:
                resp.read(65536)
                return f"http_{resp.status}", node, ttft, pec, ""
            status = "cut"
            for _ in range(100000):  # far more lines than num_predict makes; bounded all the same
                left = until - time.monotonic()
                if left <= 0:
                    status = "timeout"
                    break
                sock.settimeout(left)
                line = resp.readline(1 << 20)
                if not line:
                    break  # the stream ended without its final chunk: "cut"
                if not line.strip():
                    continue
                obj = json.loads(line)
                if "error" in obj:
                    status = "stream_error"
                    break
                content = (obj.get("message") or {}).get("content") or ""
                if content:
                    if ttft is None:
                        ttft = time.monotonic() - sent
                    parts.append(content)
                if obj.get("done"):
                    pec = obj.get("prompt_eval_count")
                    status = "ok"
                    break
        except (socket.timeout, TimeoutError):
            status = "timeout"
        except ValueError:
            status = "bad_json"
        except (OSError, http.client.HTTPException):
            status = "io"
        finally:
            conn.close()
        return status, node, ttft, pec, "".join(parts)

    def record(self, *row):
        with self.lock:
            self.records.append(row)

    def conversation(self, c):
        a, plan = self.a, self.plan
        wait = self.t0 + plan.arrivals[c] - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        messages = [{"role": "system", "content": plan.system}] if plan.system else []
        messages.append({"role": "user", "content": plan.docs[c] + "\n\n" + plan.questions[c][0]})
        for t in range(a.turns):
            if t > 0:
                time.sleep(plan.thinks[c][t])
                messages.append({"role": "user", "content": plan.questions[c][t]})
            words = sum(len(m["content"].split()) for m in messages)
            start = time.monotonic()
            if start >= self.deadline:
                for s in range(t, a.turns):
                    self.record(c, s, f"{start - self.t0:.3f}", "", f"{start - self.t0:.3f}", "skipped", "", "", "", "")
                return
            status, node, ttft, pec, reply = self.turn(messages)
            end = time.monotonic()
            self.record(c, t, f"{start - self.t0:.3f}", "" if ttft is None else f"{ttft * 1000:.1f}",
                        f"{end - self.t0:.3f}", status, node, "" if pec is None else str(pec), str(words),
                        str(len(reply.split())))
            # The reply as it was streamed (what a chat client shows and sends back), even a part of one.
            if reply:
                messages.append({"role": "assistant", "content": reply})

    def run(self):
        a = self.a
        threads = [threading.Thread(target=self.conversation, args=(c,), daemon=True) for c in range(a.conversations)]
        started_unix_ms = int(time.time() * 1000)
        self.t0 = time.monotonic()
        self.deadline = self.t0 + a.deadline
        for th in threads:
            th.start()
        # Every thread ends by the deadline plus one request's timeout (sleeps are bounded too).
        join_by = self.deadline + a.timeout + a.think_max + 5
        for th in threads:
            th.join(max(0.0, join_by - time.monotonic()))
        stuck = sum(1 for th in threads if th.is_alive())
        with self.lock:
            rows = sorted(self.records, key=lambda r: (r[0], r[1]))
        return started_unix_ms, rows, stuck


def summarize(a, started_unix_ms, rows, stuck):
    ok = [r for r in rows if r[5] == "ok"]
    sent = [r for r in rows if r[5] != "skipped"]
    failed = {}
    for r in sent:
        if r[5] != "ok":
            failed[r[5]] = failed.get(r[5], 0) + 1
    ttfts = [float(r[3]) for r in ok if r[3]]
    first = min((float(r[2]) for r in sent), default=0.0)
    last = max((float(r[4]) for r in sent), default=0.0)
    seconds = max(0.0, last - first)
    # Stickiness: turns after the first of a conversation served by the node that served its previous turn.
    same = later = 0
    prev = {}
    for r in rows:
        c, node = r[0], r[6]
        if r[1] > 0 and node and prev.get(c):
            later += 1
            same += node == prev[c]
        if node:
            prev[c] = node
    # Later turns that found their own conversation cached: evaluated under a tenth of the prompt
    # (a turn that found only the shared system prompt evaluates its whole document again).
    history = [r for r in ok if r[1] > 0 and r[7] and r[8]]
    history_hits = sum(1 for r in history if int(r[7]) * 10 < int(r[8]))
    by_node = {}
    for r in sent:
        if r[6]:
            by_node[r[6]] = by_node.get(r[6], 0) + 1
    p50, p95 = nearest_rank(ttfts, 50), nearest_rank(ttfts, 95)
    return {
        "target": a.target, "model": a.model, "seed": a.seed,
        "conversations": a.conversations, "turns_per_conversation": a.turns,
        "system_words": a.system_words, "doc_words": [a.doc_min, a.doc_max],
        "think_s": [a.think_min, a.think_max], "spread_s": a.spread, "num_predict": a.num_predict,
        "timeout_s": a.timeout, "deadline_s": a.deadline,
        "started_unix_ms": started_unix_ms,
        "turns_planned": a.conversations * a.turns, "turns_sent": len(sent), "ok": len(ok),
        "skipped": len(rows) - len(sent), "unrecorded": a.conversations * a.turns - len(rows),
        "stuck_conversations": stuck,
        "failed": sum(failed.values()), "failed_by_kind": failed,
        "seconds": seconds, "throughput_tps": len(ok) / seconds if seconds > 0 else 0.0,
        "ttft_ms": {"p50": p50, "p95": p95, "count": len(ttfts)},
        "prompt_eval_count_sum": sum(int(r[7]) for r in ok if r[7]),
        "prompt_words_sum": sum(int(r[8]) for r in sent if r[8]),
        "same_node_as_previous_turn": [same, later],
        "history_cached": [history_hits, len(history)],
        "turns_by_node": by_node,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, help="http://HOST:PORT/api/chat")
    ap.add_argument("--model", default="llama3.2:3b")
    ap.add_argument("--conversations", type=int, default=32)
    ap.add_argument("--turns", type=int, default=6)
    ap.add_argument("--system-words", type=int, default=1000)
    ap.add_argument("--doc-min", type=int, default=2000, help="words of the shortest document")
    ap.add_argument("--doc-max", type=int, default=8000, help="words of the longest document")
    ap.add_argument("--think-min", type=float, default=1.0, help="seconds")
    ap.add_argument("--think-max", type=float, default=3.0, help="seconds")
    ap.add_argument("--spread", type=float, default=10.0, help="conversations begin over this many seconds")
    ap.add_argument("--num-predict", type=int, default=32, help="tokens per reply (options.num_predict)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds one turn may take, all of it")
    ap.add_argument("--deadline", type=float, default=150.0, help="no turn starts after this many seconds")
    ap.add_argument("--records", required=True, help="TSV, one line per turn")
    ap.add_argument("--out", required=True, help="JSON summary")
    a = ap.parse_args()
    if not (1 <= a.conversations <= 1000 and 1 <= a.turns <= 100):
        raise SystemExit("conversations: --conversations must be 1..1000 and --turns 1..100")
    if a.doc_min < 0 or a.system_words < 0 or a.think_min < 0 or a.spread < 0 or a.timeout <= 0 or a.deadline <= 0:
        raise SystemExit("conversations: sizes and times must not be negative")

    started_unix_ms, rows, stuck = Run(a).run()
    with open(a.records, "w") as f:
        for r in rows:
            f.write("\t".join(str(v) for v in r) + "\n")
    s = summarize(a, started_unix_ms, rows, stuck)
    with open(a.out, "w") as f:
        json.dump(s, f, indent=1)
        f.write("\n")
    t = s["ttft_ms"]
    fmt = lambda v: "-" if v is None else f"{v:.0f} ms"
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(s["failed_by_kind"].items()))
    print(f"conversations: {s['ok']} of {s['turns_planned']} turns ok, {s['failed']} failed"
          f"{' (' + kinds + ')' if kinds else ''}, {s['skipped']} skipped; TTFT p50 {fmt(t['p50'])}, p95 {fmt(t['p95'])}; "
          f"{s['throughput_tps']:.2f} turns/s over {s['seconds']:.1f} s; prompt_eval_count sum {s['prompt_eval_count_sum']}"
          + (f"; {stuck} conversation(s) still running at the end" if stuck else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
