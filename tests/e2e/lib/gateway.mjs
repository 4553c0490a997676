// Starts `hydra serve` (the gateway) in front of some Ollama nodes for end-to-end tests.
//
//   const gw = await startGateway({ nodes: [simA.url, simB.url] });
//   gw.url             // http://127.0.0.1:PORT: the gateway's Ollama API (https with --tls-cert)
//   gw.fleet           // { reachable, total, models } from its first probe round
//   gw.dashboardUrl    // http://127.0.0.1:PORT of the dashboard (null unless printed before ready)
//   gw.stderr()        // its log so far (print it when a test fails)
//   await gw.stop();   // SIGTERM, then SIGKILL after a deadline
//
// On start the gateway prints `hydra serve: Ollama API on http://HOST:PORT` and, after its
// first probe round, `hydra serve: N of M nodes reachable, K distinct models on disk across them`
// (or, on stderr, that no node is reachable). startGateway waits for both (never a fixed
// sleep) up to a deadline. With `dashboard: true` it also waits for
// `hydra serve: dashboard on http://HOST:PORT`. The gateway logs to stderr.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startHydra } from './proc.mjs';

const API_LINE = /^hydra serve: Ollama API on (https?:\/\/\S+)$/;
const FLEET_LINE = /^hydra serve: (\d+) of (\d+) nodes reachable, (\d+) distinct models on disk across them$/;
const DASHBOARD_LINE = /^hydra serve: dashboard on (https?:\/\/\S+)$/;
const NONE_REACHABLE = /^hydra serve: no Ollama node is reachable/;

/**
 * Starts `hydra serve --listen 127.0.0.1:0 --no-discovery --node URL... ...args`.
 *
 * The gateway runs with a clean environment (no HYDRA_* / SOLLOL_* settings inherited from the
 * caller, other than those in `env`) and a scratch --data-dir, so the test is hermetic.
 * @param {object} options
 * @param {string[]} options.nodes node URLs (e.g. the sims' printed URLs)
 * @param {string[]} [options.args] extra command-line flags
 * @param {Record<string, string>} [options.env] extra environment (e.g. HYDRA_MODELS_INTERVAL)
 * @param {boolean} [options.requireAllReachable] fail the start unless every node was reachable (default true)
 * @param {boolean} [options.dashboard] also wait for the "dashboard on" line (default false)
 * @param {number} [options.startTimeoutMs] deadline for all awaited lines (default 10 s)
 * @param {string} [options.listen] API address (default 127.0.0.1:0, a free port); a fixed one to restart in place
 * @param {string} [options.dashboardListen] dashboard address (default 127.0.0.1:0)
 */
export async function startGateway({ nodes, args = [], env = {}, requireAllReachable = true, dashboard = false, startTimeoutMs = 10_000,
  listen = '127.0.0.1:0', dashboardListen = '127.0.0.1:0' }) {
  if (!nodes?.length) throw new Error('startGateway: give at least one node URL');
  const dataDir = await mkdtemp(join(tmpdir(), 'hydra-e2e-gw-'));
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('HYDRA_') && !k.startsWith('SOLLOL_')),
  );
  const argv = [
    'serve',
    '--listen', listen,
    '--dashboard-listen', dashboardListen,
    '--no-discovery',
    '--data-dir', dataDir,
    ...nodes.flatMap((url) => ['--node', url]),
    ...args,
  ];

  let url = null;
  let fleet = null;
  let dashboardUrl = null;
  let proc;
  try {
    proc = await startHydra({
      argv,
      label: 'hydra serve',
      env: { ...cleanEnv, ...env },
      startTimeoutMs,
      pending: () => [!url && '"Ollama API on" line', !fleet && '"N of M nodes reachable" line',
        dashboard && !dashboardUrl && '"dashboard on" line'].filter(Boolean).join(', '),
      onLine(line, stream) {
        if (NONE_REACHABLE.test(line)) {
          // Printed (to stderr) instead of the "N of M" line when no node answered.
          fleet = { reachable: 0, total: nodes.length, models: 0 };
        } else if (stream === 'stdout') {
          const api = API_LINE.exec(line);
          if (api) url = api[1];
          const m = FLEET_LINE.exec(line);
          if (m) fleet = { reachable: Number(m[1]), total: Number(m[2]), models: Number(m[3]) };
          const dash = DASHBOARD_LINE.exec(line);
          if (dash) dashboardUrl = dash[1];
        }
        if (!url || !fleet || (dashboard && !dashboardUrl)) return undefined;
        if (requireAllReachable && fleet.reachable !== nodes.length) {
          return new Error(`hydra serve: only ${fleet.reachable} of ${nodes.length} nodes reachable (${line})`);
        }
        return true;
      },
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  async function stop(opts) {
    try {
      await proc.stop(opts);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  return { url, fleet, dashboardUrl, nodes: [...nodes], child: proc.child, stderr: proc.stderr, stdout: proc.stdout, stop };
}
