// Small DOM and formatting helpers. Text from outside (node names, models, prompts, replies)
// only ever reaches the page through text nodes or attributes set by el(), never innerHTML,
// so it cannot be read as markup: no page builds HTML from strings.

/**
 * Creates an element: el('div', {class: 'x', dataset: {testid: 'y'}, onclick: fn}, child...).
 * Children are nodes or strings (strings become text nodes); null/false are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'style' && typeof value === 'object') Object.assign(node.style, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `node`. */
export function setChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

export const $ = (id) => document.getElementById(id);

/** 1.5 GB, 512 MB, ... (decimal units, as Ollama reports sizes). */
export function formatBytes(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Number(n);
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** 12 ms, 1.4 s; '–' when unknown. */
export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms)) || Number(ms) <= 0) return '–';
  const v = Number(ms);
  if (v < 1000) return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms`;
  return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
}

export function formatNumber(v, digits = 1) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return '–';
  return Number(v).toFixed(digits);
}

/** Local wall-clock time hh:mm:ss of an RFC 3339 string or a unix-ms number. */
export function formatTime(at) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at ?? '');
  return d.toLocaleTimeString([], { hour12: false });
}

/** Tokens per second from the EWMA of milliseconds per token; null when unknown. */
export function tokensPerSecond(msPerToken) {
  const v = Number(msPerToken);
  return Number.isFinite(v) && v > 0 ? 1000 / v : null;
}
