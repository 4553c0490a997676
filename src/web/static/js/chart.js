// A small time-series line chart drawn on a <canvas>: a sliding window of points, one line per
// series, y axis from 0 to a rounded maximum, a legend with the latest values. A null value
// (e.g. no request finished in that second) or a gap in time breaks the line.

const PAD = { left: 48, right: 12, top: 26, bottom: 22 };

// 1, 2, 5 x 10^k at or above v, so the axis reads in round numbers.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function formatTick(v) {
  if (v >= 10_000) return `${(v / 1000).toFixed(0)}k`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export class TimeChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{series: {key: string, label: string, color: string}[], windowMs?: number, format?: (v:number)=>string}} opts
   */
  constructor(canvas, { series, windowMs = 5 * 60_000, format = (v) => formatTick(v) }) {
    this.canvas = canvas;
    this.series = series;
    this.windowMs = windowMs;
    this.format = format;
    this.points = []; // {t, values: {key: number|null}}
  }

  push(t, values) {
    this.points.push({ t, values });
    const oldest = t - this.windowMs;
    while (this.points.length && this.points[0].t < oldest) this.points.shift();
  }

  clear() {
    this.points = [];
  }

  // Matches the backing store to the displayed size and the screen's pixel ratio; returns false
  // while the canvas is hidden (its page is not shown), when there is nothing to draw on.
  resize() {
    const rect = this.canvas.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return false;
    const ratio = window.devicePixelRatio || 1;
    const w = Math.round(rect.width * ratio);
    const h = Math.round(rect.height * ratio);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.ratio = ratio;
    this.w = rect.width;
    this.h = rect.height;
    return true;
  }

  draw() {
    if (!this.resize()) return;
    this.canvas.dataset.points = String(this.points.length);
    const ctx = this.canvas.getContext('2d');
    const style = getComputedStyle(this.canvas);
    const fg = style.getPropertyValue('--chart-fg').trim() || '#9aa4b2';
    const grid = style.getPropertyValue('--chart-grid').trim() || '#2a313c';
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.clearRect(0, 0, this.w, this.h);
    ctx.font = '11px system-ui, sans-serif';

    const plotW = this.w - PAD.left - PAD.right;
    const plotH = this.h - PAD.top - PAD.bottom;
    const now = this.points.length ? this.points[this.points.length - 1].t : Date.now();
    const t0 = now - this.windowMs;
    let max = 0;
    for (const p of this.points) {
      for (const s of this.series) {
        const v = p.values[s.key];
        if (v !== null && v !== undefined && Number.isFinite(v)) max = Math.max(max, v);
      }
    }
    const top = niceMax(max);
    const x = (t) => PAD.left + ((t - t0) / this.windowMs) * plotW;
    const y = (v) => PAD.top + plotH - (v / top) * plotH;

    // Grid and y labels.
    ctx.strokeStyle = grid;
    ctx.fillStyle = fg;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const v = (top * i) / 4;
      const yy = Math.round(y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD.left, yy);
      ctx.lineTo(PAD.left + plotW, yy);
      ctx.stroke();
      ctx.fillText(this.format(v), PAD.left - 6, yy);
    }
    // Time labels: minutes ago.
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const stepMs = this.windowMs / 5;
    for (let i = 0; i <= 5; i++) {
      const t = t0 + i * stepMs;
      const ago = Math.round((now - t) / 1000);
      ctx.fillText(ago === 0 ? 'now' : `-${ago >= 60 ? `${(ago / 60).toFixed(ago % 60 ? 1 : 0)}m` : `${ago}s`}`, x(t), PAD.top + plotH + 6);
    }

    // Lines: broken at nulls and at gaps longer than 3 s (the feed was down).
    ctx.lineWidth = 1.8;
    ctx.lineJoin = 'round';
    for (const s of this.series) {
      ctx.strokeStyle = s.color;
      ctx.beginPath();
      let drawing = false;
      let lastT = null;
      for (const p of this.points) {
        const v = p.values[s.key];
        const ok = v !== null && v !== undefined && Number.isFinite(v);
        if (!ok || (lastT !== null && p.t - lastT > 3000)) drawing = false;
        if (ok) {
          if (drawing) ctx.lineTo(x(p.t), y(v));
          else ctx.moveTo(x(p.t), y(v));
          drawing = true;
        }
        lastT = p.t;
      }
      ctx.stroke();
    }

    // Legend with the latest value of each series.
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    let lx = PAD.left;
    const last = this.points[this.points.length - 1];
    for (const s of this.series) {
      const v = last?.values[s.key];
      const text = `${s.label} ${v === null || v === undefined ? '–' : this.format(v)}`;
      ctx.fillStyle = s.color;
      ctx.fillRect(lx, 9, 10, 3);
      ctx.fillStyle = fg;
      ctx.fillText(text, lx + 14, 11);
      lx += ctx.measureText(text).width + 30;
    }
  }
}
