// Cluster page: one card per node from each `nodes` event (the body of GET /nodes), each with
// a small chart of its requests over the last five minutes (sparkline.js).
import { $, el, formatBytes, formatMs, formatNumber, setChildren, tokensPerSecond } from './dom.js';
import { NodeActivity } from './sparkline.js';

// A node's name when it has one; else its id (host:port), which tells apart several nodes on
// one machine where the address alone would not.
function nodeTitle(n) {
  return n.name || n.hostname || n.id;
}

// A used/total bar labelled with where the figures come from. The total only when it is known
// (reported by the node's agent, or configured): an estimate is what was seen in use, so then
// only the use is shown. "none" when the node is known to have none (a CPU-only node's VRAM).
function memoryBar(label, used, total, totalKnown, source, testid) {
  const from = source || 'unknown';
  const none = totalKnown && Number(total) === 0;
  const has = totalKnown && Number(total) > 0;
  const pct = has ? Math.min(100, (Number(used) / Number(total)) * 100) : 0;
  const level = pct > 90 ? 'high' : pct > 70 ? 'mid' : 'low';
  const value = has ? `${formatBytes(used)} / ${formatBytes(total)}`
    : none ? 'none'
      : Number(used) > 0 ? `${formatBytes(used)} in use · total unknown` : 'total unknown';
  return el('div', { class: 'meter', dataset: { testid, totalKnown: String(Boolean(has || none)) } },
    el('div', { class: 'meter-label' },
      el('span', {}, label),
      el('span', { class: 'meter-value' }, value),
      el('span', { class: `tag tag-${from}`, title: 'where this figure comes from' }, from)),
    el('div', { class: `bar${has ? '' : ' bar-unknown'}` }, el('div', { class: `fill fill-${level}`, style: { width: `${pct.toFixed(1)}%` } })));
}

function slotsBar(n) {
  const slots = Number(n.slots) || 0;
  // Several gateways: the slots the others hold there count too.
  const elsewhere = Number(n.in_flight_elsewhere) || 0;
  const busy = (Number(n.in_flight) || 0) + elsewhere;
  const pct = slots > 0 ? Math.min(100, (busy / slots) * 100) : 0;
  return el('div', { class: 'meter', dataset: { testid: 'node-slots' } },
    el('div', { class: 'meter-label' },
      el('span', {}, 'Slots busy'),
      el('span', { class: 'meter-value', title: elsewhere ? `${elsewhere} through other gateways` : '' }, `${busy} / ${slots}`)),
    el('div', { class: 'bar' }, el('div', { class: `fill fill-${pct >= 100 ? 'high' : 'slots'}`, style: { width: `${pct}%` } })));
}

function residentList(n) {
  const resident = n.resident ?? [];
  if (!resident.length) return el('p', { class: 'muted small' }, 'nothing loaded');
  return el('ul', { class: 'resident', dataset: { testid: 'node-resident' } },
    resident.map((m) => {
      const size = Number(m.size) || 0;
      const pct = size > 0 ? Math.round((Number(m.size_vram) / size) * 100) : 0;
      return el('li', { dataset: { model: m.name } },
        el('span', { class: 'model-name' }, m.name),
        el('span', { class: 'muted' }, formatBytes(size)),
        el('span', { class: 'vram-pct', title: 'share of the model held in VRAM' }, `${pct}% VRAM`),
        el('span', { class: 'bar bar-thin' }, el('span', { class: 'fill fill-slots', style: { width: `${pct}%` } })));
    }));
}

function modelChips(n) {
  const resident = new Set((n.resident ?? []).map((m) => m.name));
  const loading = new Set(n.loading ?? []);
  const models = n.models ?? [];
  if (!models.length) return el('p', { class: 'muted small' }, 'no models on disk');
  return el('div', { class: 'chips', dataset: { testid: 'node-models' } },
    models.map((name) => el('span', {
      class: `chip${resident.has(name) ? ' chip-resident' : ''}${loading.has(name) ? ' chip-loading' : ''}`,
      dataset: { testid: 'node-model', model: name },
      title: resident.has(name) ? 'resident' : loading.has(name) ? 'loading' : 'on disk',
    }, name)));
}

function stat(label, value, testid) {
  return el('div', { class: 'stat', dataset: { testid } }, el('span', { class: 'stat-value' }, value), el('span', { class: 'stat-label' }, label));
}

const gb = (bytes) => `${((bytes ?? 0) / 1e9).toFixed(1)} GB`;

// An rpc-server: its address, state, protocol version, free/total memory, and the coordinator
// attached to it.
function rpcChip(s) {
  const total = (s.devices ?? []).reduce((sum, d) => sum + (d.total ?? 0), 0);
  const parts = [s.address, s.state];
  if (s.version) parts.push(`ggml-rpc ${s.version}`);
  if (total) parts.push(`${gb(s.free_bytes)} free of ${gb(total)}`);
  if (s.in_use_by) parts.push(`in use by ${s.in_use_by}`);
  if (s.error && (s.state === 'down' || s.state === 'incompatible')) parts.push(s.error);
  return el('span', { class: `chip rpc-${s.state}`, title: s.error ?? '', dataset: { testid: 'rpc-server' } }, parts.join(' · '));
}

// A sharded model: its coordinator's state, the rpc-servers and split, and its recent steps.
function shardedLine(m) {
  const head = `${m.model}: ${m.state}${m.node ? ` on ${m.node}` : ''}` +
    (m.rpc_servers?.length ? ` over ${m.rpc_servers.join(', ')} (split ${m.tensor_split.map((x) => x.toFixed(2)).join(', ')})` : '') +
    (m.restarts ? ` · restarted ${m.restarts}×` : '') + (m.reason ? ` · ${m.reason}` : '');
  return el('details', { class: 'sharded', dataset: { testid: 'sharded-model' } },
    el('summary', {}, head),
    el('ul', { class: 'small mono' }, (m.events ?? []).map((e) => el('li', {}, e))));
}

function nodeCard(n) {
  const r = n.resources ?? {};
  const tps = tokensPerSecond(n.ewma_token_ms);
  return el('article', { class: `card node health-${n.health}`, dataset: { testid: 'node-card', nodeId: n.id } },
    el('header', { class: 'card-head' },
      el('div', {},
        el('h2', { dataset: { testid: 'node-name' } }, nodeTitle(n)),
        nodeTitle(n) !== n.id ? el('div', { class: 'muted small mono' }, n.id) : null),
      el('div', { class: 'badges' },
        el('span', { class: `badge health health-${n.health}`, dataset: { testid: 'node-health' } }, n.health),
        el('span', { class: 'badge', dataset: { testid: 'node-source' } }, n.source),
        n.kind === 'llama-server' ? el('span', { class: 'badge', dataset: { testid: 'node-kind' } }, 'llama-server') : null,
        n.coordinator_of ? el('span', { class: 'badge', title: 'coordinator of a sharded model' }, `shards ${n.coordinator_of}`) : null,
        n.local ? el('span', { class: 'badge' }, 'local') : null)),
    el('div', { class: 'muted small node-url' }, el('span', { class: 'mono' }, n.url),
      n.version ? el('span', { class: 'nowrap' }, n.kind === 'llama-server' ? ' · llama.cpp' : ` · Ollama ${n.version}`) : null),
    memoryBar('VRAM', r.vram_used_bytes, r.vram_total_bytes, r.vram_total_known, r.source, 'node-vram'),
    memoryBar('RAM', r.ram_used_bytes, r.ram_total_bytes, r.ram_total_known, r.source, 'node-ram'),
    slotsBar(n),
    el('div', { class: 'spark' },
      el('span', { class: 'muted small' }, 'requests/s, last 5 min'),
      el('span', { class: 'muted small spark-total', dataset: { testid: 'node-spark-total' } }),
      el('canvas', { class: 'spark-canvas', dataset: { testid: 'node-spark', nodeId: n.id } })),
    el('div', { class: 'stats' },
      stat('TTFT (EWMA)', formatMs(n.ewma_ttft_ms), 'node-ttft'),
      stat('tokens/s', tps === null ? '–' : formatNumber(tps, tps < 10 ? 1 : 0), 'node-tps'),
      stat('requests', String(n.requests ?? 0), 'node-requests'),
      stat('failures', String(n.failures ?? 0), 'node-failures'),
      stat('ejections', String(n.ejections ?? 0), 'node-ejections')),
    el('h3', {}, 'Resident'),
    residentList(n),
    el('h3', {}, 'On disk'),
    modelChips(n),
    n.last_error
      ? el('p', { class: 'error small', dataset: { testid: 'node-error' } },
        `last error${n.consecutive_failures ? ` (${n.consecutive_failures} in a row)` : ''}: ${n.last_error}`)
      : null);
}

export class ClusterPage {
  constructor({ onSummary }) {
    this.cards = $('node-cards');
    this.onSummary = onSummary;
    this.lastJson = new Map(); // node id -> JSON of what its card shows, to redraw only changes
    this.activity = new NodeActivity();
    window.addEventListener('resize', () => this.drawActivity());
  }

  /** The gateway's last five minutes (`history`), then one second at a time (`traffic`). */
  loadActivity(seconds) {
    this.activity.load(seconds);
    this.drawActivity();
  }

  addActivity(second) {
    this.activity.add(second);
    this.drawActivity();
  }

  drawActivity() {
    for (const canvas of this.cards.querySelectorAll('[data-testid="node-spark"]')) {
      const id = canvas.dataset.nodeId;
      this.activity.draw(canvas, id);
      const t = this.activity.totals(id);
      canvas.parentElement.querySelector('.spark-total').textContent = `${t.requests} req · ${t.tokens} tokens`;
      canvas.dataset.requests = String(t.requests);
    }
  }

  update(msg) {
    const nodes = msg.nodes ?? [];
    const healthy = nodes.filter((n) => n.health === 'healthy').length;
    const inFlight = nodes.reduce((a, n) => a + (Number(n.in_flight) || 0) + (Number(n.in_flight_elsewhere) || 0), 0);
    const models = new Set(nodes.flatMap((n) => n.models ?? []));
    const summary = `${healthy}/${nodes.length} nodes healthy · ${models.size} models · ${inFlight} in flight`;
    $('cluster-summary').textContent = summary;
    this.onSummary(summary, healthy === nodes.length && nodes.length > 0);

    if (!nodes.length) {
      this.lastJson.clear();
      setChildren(this.cards, el('p', { class: 'muted empty' }, 'No node configured or found yet.'));
    } else {
      this.render(nodes);
      this.drawActivity(); // cards rebuilt just now have blank charts
    }
    // Several gateways sharing this fleet (cluster.redis_url): the live ones, this one marked.
    const gateways = msg.gateways ?? [];
    setChildren($('gateways'), gateways.length
      ? [el('h3', {}, `Gateways (${gateways.length})`),
         el('div', { class: 'chips' }, gateways.map((g) => el('span', { class: 'chip', title: g.url ?? '', dataset: { testid: 'gateway-chip' } },
           `${g.id}${g.self ? ' (this one)' : ''}`)))]
      : []);
    const rpc = msg.rpc_servers ?? [];
    const sharded = msg.sharded ?? [];
    setChildren($('rpc-servers'), [
      ...(rpc.length ? [el('h3', {}, 'llama.cpp RPC servers'), el('div', { class: 'chips' }, rpc.map(rpcChip))] : []),
      ...(sharded.length ? [el('h3', {}, 'Sharded models'), ...sharded.map(shardedLine)] : []),
    ]);
  }

  // Keeps each node's card element and replaces it only when its data changed, so a card
  // being read is not rebuilt every second for nothing.
  render(nodes) {
    const existing = new Map([...this.cards.querySelectorAll('[data-testid="node-card"]')].map((c) => [c.dataset.nodeId, c]));
    const seen = new Set();
    let previous = null;
    for (const n of nodes) {
      seen.add(n.id);
      const json = JSON.stringify(n);
      let card = existing.get(n.id);
      if (!card || this.lastJson.get(n.id) !== json) {
        const fresh = nodeCard(n);
        if (card) card.replaceWith(fresh);
        card = fresh;
        this.lastJson.set(n.id, json);
      }
      // Keep the server's order.
      const want = previous ? previous.nextSibling : this.cards.firstChild;
      if (want !== card) this.cards.insertBefore(card, want);
      previous = card;
    }
    for (const [id, card] of existing) {
      if (!seen.has(id)) {
        card.remove();
        this.lastJson.delete(id);
      }
    }
    for (const child of [...this.cards.children]) {
      if (child.dataset.testid !== 'node-card') child.remove();
    }
  }
}
