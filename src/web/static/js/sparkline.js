// Per-node activity for the Cluster page's small charts: each node's requests and tokens per
// second over the last five minutes, from the `history` event (on connecting) and each
// `traffic` event (one a second, with that second's counts per node), drawn as bars.

const WINDOW_MS = 5 * 60_000;

export class NodeActivity {
  constructor() {
    this.series = new Map(); // node id -> [{t, requests, tokens}], oldest first
    this.lastT = 0;
  }

  /** The gateway's history: replaces what was kept (a new connection). */
  load(seconds) {
    this.series.clear();
    this.lastT = 0;
    for (const s of seconds ?? []) this.add(s);
  }

  /** One second of traffic: {t, nodes: {id: {requests, tokens, errors}}}. */
  add(second) {
    const t = Number(second.t) || Date.now();
    if (t <= this.lastT) return;
    this.lastT = t;
    for (const [id, c] of Object.entries(second.nodes ?? {})) {
      if (!this.series.has(id)) this.series.set(id, []);
      this.series.get(id).push({ t, requests: Number(c.requests) || 0, tokens: Number(c.tokens) || 0 });
    }
    for (const points of this.series.values()) {
      while (points.length && points[0].t < t - WINDOW_MS) points.shift();
    }
  }

  /** Requests and tokens in the window. */
  totals(id) {
    const points = this.series.get(id) ?? [];
    return points.reduce((a, p) => ({ requests: a.requests + p.requests, tokens: a.tokens + p.tokens }), { requests: 0, tokens: 0 });
  }

  /** Draws node `id`'s requests per second on `canvas`, one bar per second that had any. */
  draw(canvas, id) {
    const rect = canvas.getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, rect.width, rect.height);
    const points = this.series.get(id) ?? [];
    const now = this.lastT || Date.now();
    const max = Math.max(1, ...points.map((p) => p.requests));
    const style = getComputedStyle(canvas);
    ctx.fillStyle = style.getPropertyValue('--chart-grid').trim() || '#252c36';
    ctx.fillRect(0, rect.height - 1, rect.width, 1);
    ctx.fillStyle = style.getPropertyValue('--accent').trim() || '#6ea8fe';
    const barW = Math.max(1, rect.width / (WINDOW_MS / 1000));
    for (const p of points) {
      if (!p.requests) continue;
      const x = rect.width - ((now - p.t) / WINDOW_MS) * rect.width - barW;
      const h = Math.max(2, (p.requests / max) * (rect.height - 2));
      ctx.fillRect(x, rect.height - 1 - h, barW, h);
    }
    canvas.dataset.points = String(points.filter((p) => p.requests).length);
  }
}
