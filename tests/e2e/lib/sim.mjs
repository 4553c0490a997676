// Starts `hydra sim` as a child process for end-to-end tests and stops it again.
//
//   const sim = await startSim({ args: ['--name', 'alpha'], nodes: 1 });
//   sim.url            // http://127.0.0.1:PORT of the first node
//   sim.nodes          // [{ name, url }] one per node, in the order printed
//   await sim.stop();  // SIGTERM, then SIGKILL after a deadline
//
// The binary is $HYDRA_BIN, or build/hydra at the repository root.
// On start the sim prints `node NAME listening on http://HOST:PORT` (https with --tls-cert) once per node and
// flushes; startSim waits for those lines (never a fixed sleep) up to a deadline.
import { HYDRA_BIN, startHydra } from './proc.mjs';

export { HYDRA_BIN };

const LISTENING = /^node (\S+) listening on (https?:\/\/\S+)$/;

/**
 * Starts `hydra sim --listen 127.0.0.1:0 [--nodes N] ...args`.
 * @param {object} [options]
 * @param {string[]} [options.args] extra command-line flags
 * @param {number} [options.nodes] how many nodes (adds --nodes N when > 1); that many lines are awaited
 * @param {string} [options.listen] the --listen value (default 127.0.0.1:0)
 * @param {number} [options.startTimeoutMs] deadline for all "listening" lines (default 10 s)
 * @returns {Promise<{url: string, nodes: {name: string, url: string}[], child: import('node:child_process').ChildProcess, stderr: () => string, stop: (opts?: {termTimeoutMs?: number}) => Promise<void>}>}
 */
export async function startSim({ args = [], nodes = 1, listen = '127.0.0.1:0', startTimeoutMs = 10_000 } = {}) {
  const argv = ['sim', '--listen', listen, ...(nodes > 1 ? ['--nodes', String(nodes)] : []), ...args];
  const found = [];
  const proc = await startHydra({
    argv,
    label: 'hydra sim',
    startTimeoutMs,
    pending: () => `${nodes - found.length} more of ${nodes} "listening" lines (got ${found.length})`,
    onLine(line, stream) {
      if (stream !== 'stdout') return undefined;
      const m = LISTENING.exec(line);
      if (m) found.push({ name: m[1], url: m[2] });
      return found.length >= nodes;
    },
  });
  return { url: found[0].url, nodes: found, child: proc.child, stderr: proc.stderr, stop: proc.stop };
}

/** GET url+path as JSON, with a deadline. */
export async function getJson(url, path, { timeoutMs = 5_000 } = {}) {
  const res = await fetch(url + path, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}${path}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** The sim's counters (GET /_sim/stats). */
export function simStats(url) {
  return getJson(url, '/_sim/stats');
}

/**
 * Calls `probe` until it returns a truthy value or the deadline passes; returns that value.
 * Between tries it waits `intervalMs` (polling, not synchronisation by sleeping).
 */
export async function waitFor(probe, { timeoutMs = 5_000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Runs `worker` over `items` with at most `limit` at once; resolves to the results in order. */
export async function mapLimit(items, limit, worker) {
  const results = new Array(items.length);
  let next = 0;
  async function lane() {
    while (next < items.length) {
      const i = next++;
      results[i] = await worker(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
