// Traffic page: live charts fed by each `traffic` event (one per second), filled on connecting
// with the gateway's last five minutes (the `history` event), so they never start empty.
import { $, formatMs, formatNumber } from './dom.js';
import { TimeChart } from './chart.js';

const C = { blue: '#6ea8fe', green: '#3fb68b', amber: '#f0b429', red: '#f06a6a', violet: '#b794f6' };

const pct = (o, k) => (o && o[k] !== undefined ? o[k] : null);

export class TrafficPage {
  constructor() {
    this.visible = false;
    this.latest = null;
    this.charts = {
      rate: new TimeChart($('chart-rate'), { series: [{ key: 'rate', label: 'req/s', color: C.blue }], format: (v) => formatNumber(v, v < 10 ? 1 : 0) }),
      ttft: new TimeChart($('chart-ttft'), { series: [
        { key: 'p50', label: 'p50', color: C.green }, { key: 'p95', label: 'p95', color: C.amber }, { key: 'p99', label: 'p99', color: C.red }] }),
      total: new TimeChart($('chart-total'), { series: [
        { key: 'p50', label: 'p50', color: C.green }, { key: 'p95', label: 'p95', color: C.amber }, { key: 'p99', label: 'p99', color: C.red }] }),
      queue: new TimeChart($('chart-queue'), { series: [
        { key: 'queue', label: 'queued', color: C.amber }, { key: 'inflight', label: 'in flight', color: C.blue }] }),
      tokens: new TimeChart($('chart-tokens'), { series: [{ key: 'tps', label: 'tokens/s', color: C.violet }], format: (v) => formatNumber(v, v < 10 ? 1 : 0) }),
      failovers: new TimeChart($('chart-failovers'), { series: [
        { key: 'failovers', label: 'failovers', color: C.red }, { key: 'cache', label: 'cache hits', color: C.green }] }),
    };
    window.addEventListener('resize', () => this.draw());
  }

  /** The gateway's history (oldest first): the charts start over from it. */
  load(seconds) {
    for (const chart of Object.values(this.charts)) chart.clear();
    this.latest = null;
    for (const ev of seconds ?? []) this.push(ev);
    if (this.visible) this.draw();
  }

  update(ev) {
    this.push(ev);
    if (this.visible) this.draw();
  }

  push(ev) {
    const t = Number(ev.t) || Date.now();
    if (this.latest && t <= Number(this.latest.t)) return; // already charted
    const c = this.charts;
    c.rate.push(t, { rate: ev.requests_per_s ?? 0 });
    c.ttft.push(t, { p50: pct(ev.ttft_ms, 'p50'), p95: pct(ev.ttft_ms, 'p95'), p99: pct(ev.ttft_ms, 'p99') });
    c.total.push(t, { p50: pct(ev.total_ms, 'p50'), p95: pct(ev.total_ms, 'p95'), p99: pct(ev.total_ms, 'p99') });
    c.queue.push(t, { queue: ev.queue_depth ?? 0, inflight: ev.in_flight ?? 0 });
    c.tokens.push(t, { tps: ev.tokens_per_s ?? 0 });
    c.failovers.push(t, { failovers: ev.failovers ?? 0, cache: ev.cache_hits ?? 0 });
    this.latest = ev;
  }

  show(visible) {
    this.visible = visible;
    if (visible) this.draw();
  }

  draw() {
    if (!this.visible) return;
    for (const chart of Object.values(this.charts)) chart.draw();
    const ev = this.latest;
    $('traffic-now').textContent = ev
      ? `${formatNumber(ev.requests_per_s ?? 0, 1)} req/s · TTFT p50 ${formatMs(pct(ev.ttft_ms, 'p50'))} · ` +
        `${ev.queue_depth ?? 0} queued · ${ev.in_flight ?? 0} in flight · ${ev.failovers ?? 0} failovers · ` +
        `${ev.cache_hits ?? 0} cache hits` + prefixText(ev)
      : 'waiting for the first sample…';
  }
}

// Prefix affinity: the share of long-prompt requests served where part of the prompt was cached.
function prefixText(ev) {
  if (!ev.prefix_requests) return '';
  const ratio = (100 * (ev.prefix_hits ?? 0)) / ev.prefix_requests;
  return ` · prefix hits ${formatNumber(ratio, 0)}% of ${ev.prefix_requests} (${formatNumber(ev.prefix_tokens ?? 0, 0)} tokens matched)`;
}
