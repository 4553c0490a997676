// Draws an orchestration's sub-tasks as a DAG: one column per dependency layer (a sub-task sits
// one layer right of its deepest dependency), boxes in columns, SVG arrows from each dependency
// to its dependents. Outputs are collapsed (<details>); which are open survives a redraw.
import { el, formatMs } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';

/** Layer index per sub-task id: 0 without dependencies, else 1 + the deepest dependency. */
export function layers(subtasks) {
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const depth = new Map();
  const visiting = new Set();
  function visit(id) {
    if (depth.has(id)) return depth.get(id);
    if (visiting.has(id)) return 0; // a cycle (the planner breaks them; be safe anyway)
    visiting.add(id);
    const deps = (byId.get(id)?.dependencies ?? []).filter((d) => byId.has(d));
    const d = deps.length ? 1 + Math.max(...deps.map(visit)) : 0;
    visiting.delete(id);
    depth.set(id, d);
    return d;
  }
  for (const s of subtasks) visit(s.id);
  return depth;
}

function subtaskBox(s, openOutputs) {
  const results = s.results ?? [];
  const outputs = results.length > 1
    ? results.map((r) => el('div', { class: 'result' },
      el('div', { class: 'muted small' }, `${r.model}${r.node_id ? ` on ${r.node_id}` : ''}${r.ok === false ? ' · failed' : ''}`),
      el('pre', {}, r.ok === false ? r.error : r.output)))
    : [el('pre', {}, s.output || (s.status === 'failed' ? s.error ?? '' : ''))];
  const hasOutput = Boolean(s.output || s.error || results.length);
  const details = hasOutput
    ? el('details', { dataset: { subtask: String(s.id) }, open: openOutputs.has(String(s.id)) },
      el('summary', {}, 'output'), ...outputs)
    : null;
  details?.addEventListener('toggle', () => {
    if (details.open) openOutputs.add(String(s.id));
    else openOutputs.delete(String(s.id));
  });
  return el('div', { class: `dag-box status-${s.status ?? 'pending'}`, dataset: { testid: 'dag-box', subtask: String(s.id) } },
    el('div', { class: 'dag-box-head' },
      el('span', { class: 'mono' }, `#${s.id}`),
      el('span', { class: `badge status-${s.status ?? 'pending'}` }, s.status ?? 'pending')),
    el('div', { class: 'dag-desc' }, s.description ?? ''),
    el('div', { class: 'muted small' },
      el('span', {}, s.model_type ?? ''), s.model ? ' · ' : '', el('span', { class: 'mono' }, s.model ?? '')),
    el('div', { class: 'muted small' },
      s.node_id ? el('span', { class: 'mono' }, `on ${s.node_id}`) : 'no node yet',
      s.duration_ms ? ` · ${formatMs(s.duration_ms)}` : ''),
    s.error && s.status === 'failed' ? el('div', { class: 'error small' }, s.error) : null,
    details);
}

/**
 * Returns the DAG element for `subtasks`. Arrows are drawn once it is in the document
 * (call the returned element's `drawArrows()` after inserting it, and on resize).
 */
export function renderDag(subtasks, openOutputs = new Set()) {
  const depth = layers(subtasks);
  const columns = [];
  for (const s of subtasks) {
    const d = depth.get(s.id) ?? 0;
    (columns[d] ??= []).push(s);
  }
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'dag-arrows');
  const defs = document.createElementNS(SVG, 'defs');
  const marker = document.createElementNS(SVG, 'marker');
  for (const [k, v] of Object.entries({ id: 'arrowhead', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto' })) marker.setAttribute(k, v);
  const tip = document.createElementNS(SVG, 'path');
  tip.setAttribute('d', 'M0,0 L10,5 L0,10 z');
  marker.append(tip);
  defs.append(marker);
  svg.append(defs);

  const grid = el('div', { class: 'dag-columns' },
    columns.map((col, i) => el('div', { class: 'dag-column' },
      el('div', { class: 'muted small dag-layer' }, i === 0 ? 'start' : `layer ${i + 1}`),
      (col ?? []).map((s) => subtaskBox(s, openOutputs)))));
  const root = el('div', { class: 'dag', dataset: { testid: 'dag' } }, svg, grid);

  root.drawArrows = () => {
    for (const old of svg.querySelectorAll('path.edge')) old.remove();
    const base = root.getBoundingClientRect();
    svg.setAttribute('width', String(root.scrollWidth));
    svg.setAttribute('height', String(root.scrollHeight));
    const boxes = new Map([...root.querySelectorAll('.dag-box')].map((b) => [b.dataset.subtask, b.getBoundingClientRect()]));
    for (const s of subtasks) {
      const to = boxes.get(String(s.id));
      for (const dep of s.dependencies ?? []) {
        const from = boxes.get(String(dep));
        if (!from || !to) continue;
        const x1 = from.right - base.left;
        const y1 = from.top + Math.min(from.height / 2, 40) - base.top;
        const x2 = to.left - base.left;
        const y2 = to.top + Math.min(to.height / 2, 40) - base.top;
        const mid = (x1 + x2) / 2;
        const path = document.createElementNS(SVG, 'path');
        path.setAttribute('class', 'edge');
        path.setAttribute('d', `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 2},${y2}`);
        path.setAttribute('marker-end', 'url(#arrowhead)');
        svg.append(path);
      }
    }
  };
  return root;
}
