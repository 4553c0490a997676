// Requests page: the gateway's recent model requests, newest first. A page that connects gets
// the last 200 in the `history` event, then each new one as a `request` event. Filters (model,
// node, outcome, a request id or part of one) narrow the table; a click on a row shows its trace (trace.js).
import { $, el, formatMs, formatTime, setChildren } from './dom.js';
import { traceView } from './trace.js';

const MAX_KEPT = 1000; // as many as the gateway keeps
const MAX_ROWS = 300; // shown at once (the filters reach the rest)
const OUTCOMES = ['served', 'cached', 'failed', 'rejected', 'unroutable', 'abandoned'];

function who(r) {
  const parts = [r.key ? `key ${r.key}` : null, r.client || null, r.gateway ? `through ${r.gateway}` : null].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'gateway';
}

// A record's identity: its seq, with the gateway's name for another gateway's (several
// gateways number their requests each their own way).
const keyOf = (r) => (r.gateway ? `${r.gateway}#${r.seq}` : String(r.seq));

function row(r, selected, onClick) {
  const statusClass = r.status >= 400 || r.status === 0 ? 'error' : '';
  return el('tr', {
    class: `req outcome-${r.outcome}${selected ? ' selected' : ''}`,
    dataset: { testid: 'request-row', seq: String(r.seq), model: r.model ?? '', node: r.node ?? '', outcome: r.outcome ?? '' },
    onclick: () => onClick(keyOf(r)),
  },
  el('td', { class: 'nowrap', title: r.at }, formatTime(r.at)),
  el('td', { class: 'small' }, who(r),
    r.request_id ? el('div', { class: 'muted mono', dataset: { testid: 'request-id' } }, r.request_id) : null),
  el('td', { class: 'nowrap', dataset: { testid: 'request-model' } }, r.model, el('div', { class: 'muted small mono' }, r.endpoint)),
  el('td', { class: 'mono', dataset: { testid: 'request-node' } }, r.node ?? el('span', { class: 'muted' }, '—')),
  el('td', { class: statusClass, dataset: { testid: 'request-status' } }, r.status ? String(r.status) : '—', el('div', { class: 'muted small' }, r.outcome)),
  el('td', { class: 'num' }, String(r.attempts ?? 0)),
  el('td', { class: 'num' }, r.queued ? formatMs(r.queue_ms) : '—'),
  el('td', { class: 'num' }, formatMs(r.ttft_ms)),
  el('td', { class: 'num' }, formatMs(r.duration_ms)),
  el('td', { class: 'num nowrap' }, `${r.tokens_in ?? 0} → ${r.tokens_out ?? 0}`),
  el('td', { class: 'muted' }, r.cache ?? '—'));
}

// The select's choices; rebuilt only when they change (an open list is not reset each second).
function options(select, values, all) {
  const key = [...values].sort().join('\n');
  if (select.dataset.key === key && select.options.length) return;
  select.dataset.key = key;
  const current = select.value;
  setChildren(select, el('option', { value: '' }, all), [...values].sort().map((v) => el('option', { value: v }, v)));
  select.value = values.has(current) ? current : '';
}

export class RequestsPage {
  constructor() {
    this.records = []; // newest first
    this.selected = null;
    this.filter = { model: $('req-model'), node: $('req-node'), outcome: $('req-outcome'), id: $('req-id') };
    options(this.filter.outcome, new Set(OUTCOMES), 'any outcome');
    for (const select of Object.values(this.filter)) select.addEventListener('change', () => this.render());
    this.filter.id.addEventListener('input', () => this.render());
  }

  /** The gateway's recent requests, newest first (each connection's `history`). */
  load(records) {
    this.records = [...(records ?? [])].slice(0, MAX_KEPT);
    this.refreshFilters();
    this.render();
  }

  add(r) {
    const newest = r.gateway ? null : this.records.find((x) => !x.gateway);
    if (newest && newest.seq >= r.seq) return; // already have it
    this.records.unshift(r);
    if (this.records.length > MAX_KEPT) this.records.pop();
    // Many requests a second redraw the table a few times a second, not once each.
    this.pending ??= setTimeout(() => {
      this.pending = null;
      this.refreshFilters();
      this.render();
    }, 150);
  }

  refreshFilters() {
    options(this.filter.model, new Set(this.records.map((r) => r.model).filter(Boolean)), 'any model');
    options(this.filter.node, new Set(this.records.map((r) => r.node).filter(Boolean)), 'any node');
  }

  matching() {
    const f = Object.fromEntries(Object.entries(this.filter).map(([k, s]) => [k, s.value]));
    return this.records.filter((r) => (!f.model || r.model === f.model) && (!f.node || r.node === f.node) &&
      (!f.outcome || r.outcome === f.outcome) && (!f.id.trim() || (r.request_id ?? '').toLowerCase().includes(f.id.trim().toLowerCase())));
  }

  select(seq) {
    this.selected = this.selected === seq ? null : seq;
    this.render();
  }

  render() {
    const matching = this.matching();
    const shown = matching.slice(0, MAX_ROWS);
    setChildren($('req-rows'), shown.map((r) => row(r, keyOf(r) === this.selected, (key) => this.select(key))));
    $('req-empty').hidden = shown.length > 0;
    $('req-count').textContent = `${matching.length} of ${this.records.length} recent request${this.records.length === 1 ? '' : 's'}` +
      (matching.length > shown.length ? ` (the newest ${shown.length} shown)` : '');
    const chosen = this.records.find((r) => keyOf(r) === this.selected);
    setChildren($('req-trace'), chosen ? traceView(chosen) : []);
  }
}
