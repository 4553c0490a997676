// One request's trace for the Requests page: what it was, how long each part took, and the
// routing decision behind it (the candidates with their scores, the one chosen, failovers and
// mid-stream continuations), as the gateway's request log recorded it.
import { el, formatMs, formatNumber, formatTime } from './dom.js';

function kv(pairs) {
  return el('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

// Queue wait, then time to first token, then the rest of the reply, as one bar.
function timeline(r) {
  const total = Math.max(Number(r.duration_ms) || 0, 1);
  const queue = r.queued ? Number(r.queue_ms) || 0 : 0;
  const ttft = Number(r.ttft_ms) > 0 ? Number(r.ttft_ms) : 0;
  const rest = Math.max(0, total - queue - ttft);
  const part = (cls, ms, label) => (ms > 0
    ? el('span', { class: `seg ${cls}`, style: { width: `${(ms / total) * 100}%` }, title: `${label} ${formatMs(ms)}` })
    : null);
  return el('div', { class: 'timeline', dataset: { testid: 'trace-timeline' } },
    part('seg-queue', queue, 'queued'), part('seg-ttft', ttft, 'to first token'), part('seg-rest', rest, 'streaming'));
}

function candidates(routing) {
  const list = routing?.candidates ?? [];
  if (!list.length) return el('p', { class: 'muted small' }, 'no candidate node');
  return el('table', { class: 'grid compact', dataset: { testid: 'trace-candidates' } },
    el('thead', {}, el('tr', {}, el('th', {}, 'node'), el('th', {}, 'score'), el('th', {}, 'placement'), el('th', {}, 'slot'))),
    el('tbody', {}, list.map((c) => el('tr', { class: c.node_id === routing.selected_node ? 'chosen' : '' },
      el('td', { class: 'mono' }, c.node_id, c.node_id === routing.selected_node ? ' ✓' : ''),
      el('td', { class: 'num' }, formatNumber(c.score, 2)),
      el('td', {}, c.placement),
      el('td', {}, c.free_slot ? 'free' : 'full')))));
}

export function traceView(r) {
  const d = r.routing;
  const steps = (d?.continued ?? []).map((c) => `continued on ${c.to} after ${c.after_tokens} tokens (${c.from} broke off)`);
  return el('div', { class: 'trace', dataset: { testid: 'request-trace', seq: String(r.seq) } },
    el('h2', {}, `${r.method} ${r.endpoint} · ${r.model}`),
    kv([
      ['time', `${formatTime(r.at)} (${r.at})`],
      ['request id', r.request_id],
      ['key', r.key || null],
      ['client', r.client || 'the gateway itself'],
      ['outcome', `${r.status || '—'} ${r.outcome}`],
      ['node', r.node ?? 'none'],
      ['attempts', String(r.attempts ?? 0)],
      ['timings', `queued ${r.queued ? formatMs(r.queue_ms) : 'no'} · first token ${formatMs(r.ttft_ms)} · total ${formatMs(r.duration_ms)}`],
      ['tokens', `${r.tokens_in ?? 0} in, ${r.tokens_out ?? 0} out`],
      ['cache', r.cache ?? 'none'],
    ]),
    timeline(r),
    el('h3', {}, d ? `Routing decision #${d.seq}` : 'Routing decision'),
    d
      ? [kv([
        ['asked for', d.requested_node],
        ['priority', d.priority !== undefined && d.priority !== 5 ? String(d.priority) : null],
        ['reason', el('span', { dataset: { testid: 'trace-reason' } }, d.reason)],
        ['error', d.error ? el('span', { class: 'error' }, d.error) : null],
        ['continued', steps.length ? steps.join('; ') : null],
      ]), candidates(d)]
      : el('p', { class: 'muted small', dataset: { testid: 'trace-reason' } }, 'not routed: the client left before a node was chosen'));
}
