// Starts `hydra sim` as a child process for end-to-end tests and stops it again.
//
//   const sim = await startSim({ args: ['--name', 'alpha'], nodes: 1 });
//   sim.url            // http://127.0.0.1:PORT of the first node
//   sim.nodes          // [{ name, url }] one per node, in the order printed
//   await sim.stop();  // SIGTERM, then SIGKILL after a deadline
//
// The binary is $HYDRA_BIN, or build/hydra at the repository root.
// On start the sim prints `node NAME listening on http://HOST:PORT` once per node and
// flushes; startSim waits for those lines (never a fixed sleep) up to a deadline.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HYDRA_BIN = process.env.HYDRA_BIN
  ? resolve(process.env.HYDRA_BIN)
  : fileURLToPath(new URL('../../../build/hydra', import.meta.url));

const LISTENING = /^node (\S+) listening on (http:\/\/\S+)$/;

// Every child still running; killed on the way out if a test forgot (or failed) to.
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function tail(text, max = 2000) {
  return text.length > max ? `...${text.slice(-max)}` : text;
}

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
  if (!existsSync(HYDRA_BIN)) {
    throw new Error(`hydra binary not found at ${HYDRA_BIN} (build it, or set HYDRA_BIN)`);
  }
  const argv = ['sim', '--listen', listen, ...(nodes > 1 ? ['--nodes', String(nodes)] : []), ...args];
  const child = spawn(HYDRA_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr = tail(stderr + d, 20_000);
  });

  const exited = new Promise((resolveExit) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolveExit({ code, signal });
    });
  });
  let hasExited = false;
  exited.then(() => {
    hasExited = true;
  });

  async function stop({ termTimeoutMs = 5_000, killTimeoutMs = 5_000 } = {}) {
    if (hasExited || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (await raceTimeout(exited, termTimeoutMs)) return;
    child.kill('SIGKILL');
    if (!(await raceTimeout(exited, killTimeoutMs))) {
      throw new Error(`hydra sim (pid ${child.pid}) did not exit after SIGKILL`);
    }
  }

  const found = [];
  try {
    await new Promise((resolveStart, rejectStart) => {
      let buffer = '';
      const timer = setTimeout(() => {
        rejectStart(
          new Error(
            `hydra sim printed ${found.length} of ${nodes} "listening" lines within ${startTimeoutMs} ms; stderr: ${tail(stderr)}`,
          ),
        );
      }, startTimeoutMs);
      const onExit = (code, signal) => {
        clearTimeout(timer);
        rejectStart(
          new Error(`hydra sim exited early (code ${code}, signal ${signal}) after ${found.length} of ${nodes} nodes; stderr: ${tail(stderr)}`),
        );
      };
      child.once('exit', onExit);
      child.stdout.setEncoding('utf8');
      const onData = (data) => {
        buffer += data;
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          const m = LISTENING.exec(line);
          if (m) found.push({ name: m[1], url: m[2] });
        }
        if (found.length >= nodes) {
          clearTimeout(timer);
          child.off('exit', onExit);
          // Keep draining stdout so the child never blocks on a full pipe.
          child.stdout.off('data', onData);
          child.stdout.resume();
          resolveStart();
        }
      };
      child.stdout.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        rejectStart(err);
      });
    });
  } catch (err) {
    await stop({ termTimeoutMs: 2_000 }).catch(() => {});
    throw err;
  }

  return { url: found[0].url, nodes: found, child, stderr: () => stderr, stop };
}

// Resolves true if `promise` settles within `ms`, false otherwise.
function raceTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise.then(() => true),
    new Promise((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
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
