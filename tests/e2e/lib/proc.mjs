// Runs a `hydra` subcommand as a child process for end-to-end tests: waits (with a deadline,
// never a fixed sleep) until its output says it is ready, keeps the tail of its stderr for
// error messages, and stops it again (SIGTERM, then SIGKILL). Children still running when the
// test process exits are killed, so a failed or forgetful test leaves nothing behind.
//
// The binary is $HYDRA_BIN, or build/hydra at the repository root.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HYDRA_BIN = process.env.HYDRA_BIN
  ? resolve(process.env.HYDRA_BIN)
  : fileURLToPath(new URL('../../../build/hydra', import.meta.url));

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

export function tail(text, max = 2000) {
  return text.length > max ? `...${text.slice(-max)}` : text;
}

// Resolves true if `promise` settles within `ms`, false otherwise.
export function raceTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise.then(() => true),
    new Promise((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Starts `hydra ...argv` and waits until it is ready.
 *
 * `onLine(line, stream)` is called for every complete output line ('stdout' or 'stderr') until
 * the process is ready. It returns `true` once the process is ready, an Error to give up at
 * once (the process is stopped and the start rejects with it), or anything else to keep
 * waiting. `pending()` describes what is still awaited, for the timeout message.
 *
 * @returns {Promise<{child: import('node:child_process').ChildProcess, stdout: () => string, stderr: () => string, stop: (opts?: {termTimeoutMs?: number, killTimeoutMs?: number}) => Promise<void>}>}
 */
export async function startHydra({ argv, label, onLine, pending = () => 'ready output', startTimeoutMs = 10_000, env }) {
  if (!existsSync(HYDRA_BIN)) {
    throw new Error(`hydra binary not found at ${HYDRA_BIN} (build it, or set HYDRA_BIN)`);
  }
  const child = spawn(HYDRA_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  running.add(child);

  let stdout = '';
  let stderr = '';
  // While starting: {done, reject} of the start promise; null before and after.
  let waiter = null;
  const buffers = { stdout: '', stderr: '' };
  function feed(stream, data) {
    if (stream === 'stdout') stdout = tail(stdout + data, 20_000);
    else stderr = tail(stderr + data, 50_000);
    if (!waiter) return;
    buffers[stream] += data;
    let nl;
    while (waiter && (nl = buffers[stream].indexOf('\n')) >= 0) {
      const line = buffers[stream].slice(0, nl).replace(/\r$/, '');
      buffers[stream] = buffers[stream].slice(nl + 1);
      const verdict = onLine(line, stream);
      if (verdict === true) waiter.done();
      else if (verdict instanceof Error) waiter.reject(new Error(`${verdict.message}; stderr: ${tail(stderr)}`));
    }
  }
  // Always drain both pipes, so the child never blocks on a full one.
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => feed('stdout', d));
  child.stderr.on('data', (d) => feed('stderr', d));

  const exited = new Promise((resolveExit) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolveExit({ code, signal });
    });
  });

  async function stop({ termTimeoutMs = 5_000, killTimeoutMs = 5_000 } = {}) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (await raceTimeout(exited, termTimeoutMs)) return;
    child.kill('SIGKILL');
    if (!(await raceTimeout(exited, killTimeoutMs))) {
      throw new Error(`${label} (pid ${child.pid}) did not exit after SIGKILL`);
    }
  }

  try {
    await new Promise((resolveStart, rejectStart) => {
      const timer = setTimeout(() => {
        waiter?.reject(new Error(`${label}: no ${pending()} within ${startTimeoutMs} ms; stderr: ${tail(stderr)}`));
      }, startTimeoutMs);
      const onExit = (code, signal) => {
        waiter?.reject(new Error(`${label} exited early (code ${code}, signal ${signal}) before ${pending()}; stderr: ${tail(stderr)}`));
      };
      const onError = (err) => waiter?.reject(err);
      const settle = (fn) => (arg) => {
        clearTimeout(timer);
        child.off('close', onExit);
        child.off('error', onError);
        waiter = null;
        fn(arg);
      };
      waiter = { done: settle(resolveStart), reject: settle(rejectStart) };
      // 'close', not 'exit': by then all its output has been read, for the message.
      child.once('close', onExit);
      child.once('error', onError);
    });
  } catch (err) {
    await stop({ termTimeoutMs: 2_000 }).catch(() => {});
    throw err;
  }

  return { child, stdout: () => stdout, stderr: () => stderr, stop };
}
