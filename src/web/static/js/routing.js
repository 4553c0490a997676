// Routing page: the live stream of routing decisions (`routing` events), newest first. On each
// (re)connection the gateway first replays its last 50 decisions, so the list is reset then.
import { $, el, formatNumber, formatTime } from './dom.js';

const MAX_ROWS = 200;

function candidates(d) {
  const list = d.candidates ?? [];
  if (!list.length) return el('span', { class: 'muted' }, 'none');
  return el('ol', { class: 'cands' }, list.map((c) => el('li', { class: c.node_id === d.selected_node ? 'chosen' : '' },
    el('span', { class: 'cand-node' }, c.node_id),
    ' ',
    el('span', { class: 'cand-score' }, formatNumber(c.score, 2)),
    ' ',
    el('span', { class: 'muted' }, c.placement, c.free_slot ? '' : ', full'))));
}

function row(d) {
  const flags = [];
  if (d.queued) flags.push('queued');
  if (d.attempts > 1) flags.push(`${d.attempts} attempts`);
  for (const c of d.continued ?? []) flags.push(`continued on ${c.to} after ${c.after_tokens} tokens (${c.from} broke off)`);
  if (d.requested_node) flags.push(`asked for ${d.requested_node}`);
  if (d.priority !== undefined && d.priority !== 5) flags.push(`priority ${d.priority}`);
  if (d.gateway) flags.push(`through gateway ${d.gateway}`);  // several gateways: another one decided
  const key = d.gateway ? `${d.gateway}#${d.seq}` : String(d.seq);
  return el('tr', { dataset: { testid: 'routing-row', seq: String(d.seq), key, model: d.model ?? '', node: d.selected_node ?? '' }, class: d.selected_node ? '' : 'unserved' },
    el('td', { class: 'nowrap', title: d.at }, formatTime(d.at)),
    el('td', { class: 'mono' }, d.endpoint,
      d.request_id ? el('div', { class: 'muted small', title: 'X-Request-Id', dataset: { testid: 'routing-request-id' } }, d.request_id) : null),
    el('td', { class: 'nowrap', dataset: { testid: 'routing-model' } }, d.model),
    el('td', { dataset: { testid: 'routing-node' } },
      d.selected_node ? el('span', { class: 'mono' }, d.selected_node) : el('span', { class: 'error' }, 'not served'),
      flags.length ? el('div', { class: 'muted small' }, flags.join(' · ')) : null),
    el('td', { class: 'reason', dataset: { testid: 'routing-reason' } }, d.reason, d.error ? el('div', { class: 'error small' }, d.error) : null),
    el('td', {}, candidates(d)));
}

export class RoutingPage {
  constructor() {
    this.rows = $('routing-rows');
    this.seen = new Set();
    this.total = 0;
  }

  // The gateway replays its recent decisions on each connection: start the list over.
  reset() {
    this.rows.replaceChildren();
    this.seen.clear();
    this.total = 0;
    this.refreshCount();
  }

  add(d) {
    // Several gateways: another one's decisions come with its name, numbered its own way.
    const key = d.gateway ? `${d.gateway}#${d.seq}` : String(d.seq);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.total++;
    this.rows.prepend(row(d));
    while (this.rows.children.length > MAX_ROWS) {
      const last = this.rows.lastElementChild;
      this.seen.delete(last.dataset.key);
      last.remove();
    }
    this.refreshCount();
  }

  refreshCount() {
    $('routing-empty').hidden = this.rows.children.length > 0;
    const n = this.total;
    $('routing-count').textContent = n ? `${n} decision${n === 1 ? '' : 's'} since connecting (the newest ${MAX_ROWS} are kept)` : '';
  }
}
