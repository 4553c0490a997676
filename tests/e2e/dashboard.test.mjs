// End-to-end: the dashboard of `hydra serve` in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core; no browser is downloaded), in front of three `hydra sim` nodes.
// Checks what issue #7 asks of it: the Cluster page lists every node with its models, a request
// made during the test shows on the Routing page within a second, the Playground streams a reply
// and then shows its routing decision, the open page reconnects by itself when the gateway is
// restarted on the same addresses; and what issue #16 adds: a page opened after some traffic
// shows the last minutes at once (charts, per-node charts), the Requests view lists requests,
// filters them by node and shows a request's trace, and the Cluster page names each node. It
// writes a screenshot of each page to $HYDRA_SCREENSHOT_DIR (default build/screenshots at the
// repository root).
// Run: cd tests/e2e && npm install && node --test dashboard.test.mjs   (HYDRA_BIN overrides the binary)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { chromium } from 'playwright-core';

import { startGateway } from './lib/gateway.mjs';
import { startSim } from './lib/sim.mjs';
import { startHydra } from './lib/proc.mjs';

const CHROMIUM = process.env.HYDRA_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = resolve(process.env.HYDRA_SCREENSHOT_DIR ?? fileURLToPath(new URL('../../build/screenshots', import.meta.url)));
// Under `make check` the gateway is an ASan build (scripts/check.sh sets ASAN_OPTIONS), several
// times slower: deadlines stretch with it.
const SLOW = process.env.ASAN_OPTIONS ? 3 : 1;
const T = { timeout: 30_000 * SLOW }; // per-test deadline
const WAIT = 10_000 * SLOW; // deadline for one thing to show on the page

const STREAM_PROMPT = 'stream a reply to the playground';
const STREAM_WORDS = Array.from({ length: 40 }, (_, i) => `piece${i}`).join(' ');
const ORCH_TASK = 'build a tiny service with two modules and join them';

// The sims' scripted replies: a slow reply for the playground (40 tokens at 25/s, so the page
// sees many chunks), and a plan for the orchestration (two parallel sub-tasks, one joining them)
// so that the Orchestrations page has a DAG to draw.
function script() {
  return JSON.stringify([
    { match: `^${STREAM_PROMPT}`, reply: `streamed: ${STREAM_WORDS}`, tokens_per_second: 25 },
    { match: 'Classify the complexity', reply: 'COMPLEX' },
    {
      match: 'Break the task',
      reply: '```json\n[{"id": 1, "description": "Write the storage module", "model_type": "code", "dependencies": []},\n' +
        ' {"id": 2, "description": "Write the HTTP module", "model_type": "general", "dependencies": []},\n' +
        ' {"id": 3, "description": "Join both modules into a service", "model_type": "code", "dependencies": [1, 2]}]\n```',
    },
    { match: 'Combine the results', reply: 'The service: storage and HTTP modules, joined.' },
    { match: 'Sub-task: ', reply: 'done with this part' },
  ]);
}

// name -> the sim's flags; the model sets differ so that each card has its own list.
const COMMON = ['--tokens-per-second', '400', '--load-seconds', '0.05', '--seed', '3'];
const SIMS = {
  coder: ['--model', 'qwen2.5-coder:14b=9', '--model', 'qwen3:1.7b=1.1', '--model', 'qwen3:14b=9', '--loaded', 'qwen3:1.7b', '--vram-gb', '24'],
  general: ['--model', 'qwen3:8b=5', '--model', 'qwen3:1.7b=1.1', '--model', 'llama3.2:3b=2', '--loaded', 'qwen3:8b', '--vram-gb', '12'],
  small: ['--model', 'llama3.2:3b=2', '--model', 'tiny-chat=0.5', '--loaded', 'llama3.2:3b', '--vram-gb', '1.5', '--ram-gb', '16'],
};
const PLAYGROUND_MODEL = 'llama3.2:3b';

let scratch;
let sims = []; // [{ name, url, id, models, sim }]
let gateway;
let rpc; // a llama.cpp rpc-server (hydra sim --rpc-server), configured with rpc_servers
let browser;
let page;

const idOf = (url) => new URL(url).host; // how the gateway names a node

// The gateway in front of the sims; the same again (on the same addresses) after a restart.
function gatewayOptions(extra = {}) {
  // The coder's capacity is configured in its URL; the others' is estimated.
  const nodes = sims.map((s) => (s.name === 'coder' ? `${s.url}#vram=24,ram=64,slots=4` : s.url));
  return {
    nodes,
    dashboard: true,
    env: { HYDRA_MODEL_LIGHT: 'qwen3:1.7b', HYDRA_MODEL_HEAVY: 'qwen3:14b', HYDRA_MODEL_CODE: 'qwen2.5-coder:14b', HYDRA_MODEL_GENERAL: 'qwen3:8b',
      ...(rpc ? { HYDRA_RPC_SERVERS: rpc.address } : {}) },
    ...extra,
  };
}

function logs() {
  return `--- gateway stderr ---\n${gateway?.stderr() ?? ''}\n--- end ---`;
}

// `it` with the suite's deadline that prints the gateway's log when the test fails.
function test(name, fn) {
  it(name, T, async () => {
    try {
      await fn();
    } catch (err) {
      console.error(`"${name}" failed\n${logs()}`);
      if (page) await page.screenshot({ path: join(SCREENSHOTS, `failed-${name.replace(/\W+/g, '-')}.png`) }).catch(() => {});
      throw err;
    }
  });
}

async function openPage(name) {
  await page.goto(`${gateway.dashboardUrl}/#${name}`);
  await page.locator(`[data-testid="page-${name}"]`).waitFor({ state: 'visible', timeout: WAIT });
  await page.locator('[data-testid="connection"][data-state="open"]').waitFor({ timeout: WAIT });
}

async function screenshot(name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function generate(model, prompt, headers = {}) {
  const res = await fetch(`${gateway.url}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, prompt, stream: false }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return { node: res.headers.get('x-hydra-node'), body };
}

describe('dashboard in headless Chromium', () => {
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (scripts/install-deps.sh installs Debian's)`);
    await mkdir(SCREENSHOTS, { recursive: true });
    scratch = await mkdtemp(join(tmpdir(), 'hydra-e2e-dash-'));
    const scriptPath = join(scratch, 'script.json');
    await writeFile(scriptPath, script());
    sims = await Promise.all(Object.entries(SIMS).map(async ([name, flags]) => {
      const sim = await startSim({ args: ['--name', name, '--script', scriptPath, ...COMMON, ...flags] });
      const models = flags.filter((_, i) => flags[i - 1] === '--model').map((m) => m.split('=')[0]).map((m) => (m.includes(':') ? m : `${m}:latest`));
      return { name, url: sim.url, id: idOf(sim.url), models, sim };
    }));
    let address = null;
    const rpcProcess = await startHydra({
      argv: ['sim', '--rpc-server', '--listen', '127.0.0.1:0', '--rpc-device', '20/24', '--rpc-device', '4/8'],
      label: 'hydra sim --rpc-server',
      onLine(line, stream) {
        const m = stream === 'stdout' && /^rpc-server \S+ listening on (\S+)$/.exec(line);
        if (m) address = m[1];
        return address !== null;
      },
    });
    rpc = { address, process: rpcProcess };
    gateway = await startGateway(gatewayOptions());
    assert.ok(gateway.dashboardUrl, 'the gateway printed its dashboard URL');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Chromium's sandbox needs user namespaces that a root container lacks.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      timeout: WAIT,
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (err) => console.error(`page error: ${err.stack ?? err}`));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await gateway?.stop().catch(() => {});
    await Promise.all(sims.map((s) => s.sim.stop().catch(() => {})));
    await rpc?.process.stop().catch(() => {});
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('serves the page and its scripts from the binary', async () => {
    const res = await fetch(`${gateway.dashboardUrl}/`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const js = await fetch(`${gateway.dashboardUrl}/js/app.js`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
  });

  test('the cluster page lists every node with its models', async () => {
    await openPage('cluster');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="node-card"]').length === n, sims.length);
    for (const s of sims) {
      const card = page.locator(`[data-testid="node-card"][data-node-id="${s.id}"]`);
      await card.waitFor();
      // Every model on its disk is listed on its card, and the loaded one is shown as resident.
      for (const model of s.models) {
        await card.locator(`[data-testid="node-model"][data-model="${model}"]`).waitFor();
      }
      assert.equal(await card.locator('[data-testid="node-model"]').count(), s.models.length, `${s.name}: no other model`);
      await card.locator('[data-testid="node-resident"] li').first().waitFor();
      assert.equal(await card.locator('[data-testid="node-health"]').textContent(), 'healthy');
      assert.match(await card.locator('[data-testid="node-vram"]').textContent(), /VRAM/);
      assert.match(await card.locator('[data-testid="node-slots"]').textContent(), /\d+ \/ \d+/);
      // A sim says its name (--name); the card is titled with it.
      await page.waitForFunction(({ id, name }) => document.querySelector(
        `[data-testid="node-card"][data-node-id="${id}"] [data-testid="node-name"]`)?.textContent === name, { id: s.id, name: s.name });
    }
    const coder = page.locator(`[data-testid="node-card"][data-node-id="${sims.find((s) => s.name === 'coder').id}"]`);
    assert.match(await coder.locator('[data-testid="node-vram"]').textContent(), /configured/);
    assert.match(await coder.locator('[data-testid="node-vram"]').textContent(), /\/ 24\.0 GB/, 'the configured total');
    assert.match(await coder.locator('[data-testid="node-ram"]').textContent(), /\/ 64\.0 GB/);
    // An estimate is what was seen in use, not a total: the card says the total is not known.
    const general = page.locator(`[data-testid="node-card"][data-node-id="${sims.find((s) => s.name === 'general').id}"]`);
    assert.match(await general.locator('[data-testid="node-vram"]').textContent(), /in use · total unknown/);
    assert.equal(await general.locator('[data-testid="node-vram"]').getAttribute('data-total-known'), 'false');
    assert.match(await page.locator('[data-testid="summary"]').textContent(), new RegExp(`${sims.length}/${sims.length} nodes healthy`));
    // The rpc-server, as its probe found it: address, state, protocol version, free/total memory.
    await page.waitForFunction((a) => [...document.querySelectorAll('[data-testid="rpc-server"]')]
      .some((c) => c.textContent.startsWith(a) && c.textContent.includes('ready')), rpc.address);
    assert.match(await page.locator('[data-testid="rpc-server"]').first().textContent(), /ggml-rpc 3\.7\.0 · 24\.0 GB free of 32\.0 GB/);
    await screenshot('cluster');
  });

  test('a request made now shows on the routing page within a second', async () => {
    await openPage('routing');
    // The newest decision already shown (the gateway replays its recent ones on connect).
    const before = await page.evaluate(() => Math.max(0, ...[...document.querySelectorAll('[data-testid="routing-row"]')].map((r) => Number(r.dataset.seq))));
    const { node } = await generate('tiny-chat', 'hello from the routing test', { 'X-Request-Id': 'e2e-routing-1' });
    assert.ok(node, 'the gateway named the node that served');
    const shownAt = Date.now();
    await page.waitForFunction(({ seq, node: served }) => {
      const top = document.querySelector('[data-testid="routing-row"]');
      return top && Number(top.dataset.seq) > seq && top.dataset.model.startsWith('tiny-chat') && top.dataset.node === served;
    }, { seq: before, node }, { timeout: 1_000 });
    assert.ok(Date.now() - shownAt <= 1_000);
    const top = page.locator('[data-testid="routing-row"]').first();
    assert.ok((await top.locator('[data-testid="routing-reason"]').textContent()).length > 0, 'the reason is shown');
    assert.equal(await top.locator('[data-testid="routing-request-id"]').textContent(), 'e2e-routing-1');
    await screenshot('routing');
  });

  test('the playground streams a reply, then shows its routing decision', async () => {
    await openPage('playground');
    await page.locator(`[data-testid="pg-model"] option[value="${PLAYGROUND_MODEL}"]`).waitFor({ state: 'attached' });
    await page.selectOption('[data-testid="pg-model"]', PLAYGROUND_MODEL);
    await page.fill('[data-testid="pg-prompt"]', STREAM_PROMPT);
    // Record the reply's length at every change, and whether the decision was shown yet then.
    await page.evaluate(() => {
      const reply = document.querySelector('[data-testid="pg-reply"]');
      const decision = document.querySelector('[data-testid="pg-decision"]');
      window.replySeen = [];
      new MutationObserver(() => {
        window.replySeen.push({ length: reply.textContent.length, decided: decision.childElementCount > 0 });
      }).observe(reply, { childList: true, characterData: true, subtree: true });
    });
    await page.click('[data-testid="pg-send"]');
    await page.locator('[data-testid="pg-node"]').waitFor();
    const seen = await page.evaluate(() => window.replySeen);
    const streamed = seen.filter((s) => !s.decided && s.length > 0);
    assert.ok(streamed.length >= 5, `several chunk updates before the end (saw ${JSON.stringify(seen.slice(0, 20))})`);
    for (let i = 1; i < streamed.length; i++) assert.ok(streamed[i].length >= streamed[i - 1].length, 'the reply only grows');
    const reply = await page.locator('[data-testid="pg-reply"]').textContent();
    assert.equal(reply, `streamed: ${STREAM_WORDS}`);
    const chunks = Number(await page.locator('[data-testid="pg-reply"]').getAttribute('data-chunks'));
    assert.ok(chunks >= 5, `the page counted ${chunks} chunk events`);
    const node = (await page.locator('[data-testid="pg-node"]').textContent()).trim();
    const holders = sims.filter((s) => s.models.includes(PLAYGROUND_MODEL)).map((s) => s.id);
    assert.ok(holders.some((id) => node.startsWith(id)), `served by a node with ${PLAYGROUND_MODEL}: ${node}`);
    assert.ok((await page.locator('[data-testid="pg-reason"]').textContent()).length > 0, 'the reason is shown');
    await page.locator('[data-testid="pg-candidates"] tbody tr').first().waitFor();
    await screenshot('playground');
  });

  test('the traffic page charts the requests', async () => {
    await openPage('traffic');
    await page.waitForFunction(() => !/waiting/.test(document.querySelector('[data-testid="traffic-now"]').textContent)
      && document.querySelector('[data-testid="traffic-now"]').textContent.length > 0);
    // A chart that has drawn has a backing store the size of its box.
    const drawn = await page.evaluate(() => [...document.querySelectorAll('.chart canvas')].every((c) => c.width > 300));
    assert.ok(drawn, 'every chart is drawn');
    // A question asked twice is answered the second time by the response cache, and the
    // page counts the hit.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gateway.url}/api/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama3.2:3b', prompt: 'asked twice', stream: false, options: { temperature: 0 } }),
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-hydra-cache'), i === 0 ? 'miss' : 'hit; tier=l1');
      // The whole reply read before the question is asked again (fetch resolves at the head;
      // the reply is stored once whole): else the second may race the first on a new connection.
      await res.text();
    }
    await page.waitForFunction(() => /[1-9]\d* cache hits/.test(document.querySelector('[data-testid="traffic-now"]').textContent));
    // Prefix affinity: a long prompt, then the same prompt grown; the second finds it cached.
    const long = 'Here is a long document to discuss. '.repeat(20);
    for (const prompt of [long, `${long} And a question about it?`]) {
      const res = await fetch(`${gateway.url}/api/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama3.2:3b', prompt, stream: false }),
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(res.status, 200);
      await res.json();
    }
    await page.waitForFunction(() => /prefix hits [1-9]\d*% of [1-9]/.test(document.querySelector('[data-testid="traffic-now"]').textContent));
    await screenshot('traffic');
  });

  test('a page opened after some traffic shows the last minutes at once', async () => {
    const general = sims.find((s) => s.name === 'general');
    for (let i = 0; i < 3; i++) await generate('llama3.2:3b', `history ${i}`, { 'X-Hydra-Node': general.id });
    // The gateway has counted them in its per-second history (the tick after they ended).
    const deadline = Date.now() + WAIT;
    for (;;) {
      const res = await fetch(`${gateway.dashboardUrl}/traffic`, { signal: AbortSignal.timeout(5_000) });
      const { seconds } = await res.json();
      const onGeneral = seconds.reduce((n, s) => n + (s.nodes?.[general.id]?.requests ?? 0), 0);
      if (seconds.length >= 5 && onGeneral >= 3) break;
      assert.ok(Date.now() < deadline, `the history did not fill: ${JSON.stringify(seconds.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 200)); // polling the gateway's state, with a deadline
    }
    const fresh = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    fresh.setDefaultTimeout(WAIT);
    try {
      await fresh.goto(`${gateway.dashboardUrl}/#traffic`);
      await fresh.locator('[data-testid="connection"][data-state="open"]').waitFor();
      // Within a second of connecting the charts hold several seconds: the history, not the
      // live ticks (one a second).
      await fresh.waitForFunction(() => [...document.querySelectorAll('.chart canvas')].every((c) => Number(c.dataset.points) >= 5),
        null, { timeout: 1_000 });
      await fresh.screenshot({ path: join(SCREENSHOTS, 'traffic-history.png'), fullPage: true });
      // The Cluster page's small chart per node shows the requests of the last minutes.
      await fresh.goto(`${gateway.dashboardUrl}/#cluster`);
      await fresh.waitForFunction((id) => Number(document.querySelector(
        `[data-testid="node-spark"][data-node-id="${id}"]`)?.dataset.requests) >= 3, general.id, { timeout: 2_000 });
    } finally {
      await fresh.close().catch(() => {});
    }
  });

  test('the requests page lists requests, filters them by node and shows a trace', async () => {
    const small = sims.find((s) => s.name === 'small');
    const general = sims.find((s) => s.name === 'general');
    await generate('llama3.2:3b', 'requests view on small', { 'X-Hydra-Node': small.id, 'X-Request-Id': 'e2e-small' });
    await openPage('requests');
    const rows = page.locator('[data-testid="request-row"]');
    // Listed at once (history) or live: the request just made is at the top.
    await page.waitForFunction((id) => document.querySelector('[data-testid="request-row"]')?.dataset.node === id, small.id);
    const top = rows.first();
    assert.match(await top.locator('[data-testid="request-model"]').textContent(), /^llama3\.2:3b/);
    assert.equal((await top.locator('[data-testid="request-node"]').textContent()).trim(), small.id);
    assert.match(await top.locator('[data-testid="request-status"]').textContent(), /^200/);
    const total = await rows.count();
    const nodes = new Set(await rows.evaluateAll((rs) => rs.map((r) => r.dataset.node)));
    assert.ok(nodes.has(general.id) && nodes.has(small.id), `requests on several nodes: ${[...nodes]}`);
    // Filtering by node narrows the list to that node's requests.
    await page.selectOption('[data-testid="filter-node"]', general.id);
    await page.waitForFunction((id) => {
      const shown = [...document.querySelectorAll('[data-testid="request-row"]')];
      return shown.length > 0 && shown.every((r) => r.dataset.node === id);
    }, general.id);
    assert.ok(await rows.count() < total, 'fewer rows once filtered');
    await page.selectOption('[data-testid="filter-node"]', '');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="request-row"]').length >= n, total);
    // A request id (the client's X-Request-Id, or part of it) finds that one request.
    await page.fill('[data-testid="filter-request-id"]', 'E2E-SM');  // any case
    await page.waitForFunction((id) => {
      const shown = [...document.querySelectorAll('[data-testid="request-row"]')];
      return shown.length === 1 && shown[0].dataset.node === id &&
        shown[0].querySelector('[data-testid="request-id"]')?.textContent === 'e2e-small';
    }, small.id);
    await page.fill('[data-testid="filter-request-id"]', '');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="request-row"]').length >= n, total);
    // A click shows the request's trace: its routing decision and the candidates.
    await page.locator(`[data-testid="request-row"][data-node="${small.id}"]`).first().click();
    const trace = page.locator('[data-testid="request-trace"]');
    await trace.waitFor();
    assert.match(await trace.textContent(), /e2e-small/);
    assert.ok((await trace.locator('[data-testid="trace-reason"]').textContent()).length > 0, 'the reason is shown');
    await trace.locator('[data-testid="trace-candidates"] tbody tr').first().waitFor();
    await screenshot('requests');
  });

  test('the orchestrations page shows a run and its sub-task DAG', async () => {
    const res = await fetch(`${gateway.url}/orchestrate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: ORCH_TASK }),
      signal: AbortSignal.timeout(20_000),
    });
    const run = await res.json();
    assert.equal(res.status, 200, JSON.stringify(run));
    await openPage('orchestrations');
    const item = page.locator(`[data-testid="orch-run"][data-task-id="${run.task_id}"]`);
    await item.click();
    await page.locator('[data-testid="dag-box"]').nth(run.subtasks.length - 1).waitFor();
    assert.equal(await page.locator('[data-testid="dag-box"]').count(), run.subtasks.length);
    assert.ok(run.subtasks.length >= 3, 'the scripted plan has three sub-tasks');
    assert.ok(await page.locator('.dag-arrows path.edge').count() >= 2, 'arrows from the dependencies');
    await screenshot('orchestrations');
  });

  test('the page reconnects by itself after the gateway restarts', async () => {
    await openPage('routing');
    const listen = new URL(gateway.url).host;
    const dashboardListen = new URL(gateway.dashboardUrl).host;
    await gateway.stop();
    gateway = null;
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
    gateway = await startGateway(gatewayOptions({ listen, dashboardListen }));
    // No reload: the open page finds the new gateway by itself, and its live feed works again.
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor({ timeout: 20_000 });
    const { node } = await generate('tiny-chat', 'hello after the restart');
    await page.waitForFunction((served) => {
      const top = document.querySelector('[data-testid="routing-row"]');
      return top && top.dataset.seq === '1' && top.dataset.model.startsWith('tiny-chat') && top.dataset.node === served;
    }, node);
  });

  test('with API keys, the page asks for an admin key once and then works (playground included)', async () => {
    const sha = (s) => createHash('sha256').update(s).digest('hex');
    const ADMIN = 'hyd_dashboard-admin-key';
    const USER = 'hyd_dashboard-user-key';
    const keysFile = join(scratch, 'keys.toml');
    await writeFile(keysFile, `[[keys]]\nname = "ops"\nsha256 = "${sha(ADMIN)}"\nadmin = true\n` +
      `[[keys]]\nname = "team"\nsha256 = "${sha(USER)}"\n`);
    const keyed = await startGateway(gatewayOptions({ env: { ...gatewayOptions().env, HYDRA_API_KEYS_FILE: keysFile } }));
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } }); // a new tab's storage
    const tab = await context.newPage();
    tab.setDefaultTimeout(WAIT);
    try {
      await tab.goto(`${keyed.dashboardUrl}/#cluster`);
      const dialog = tab.locator('[data-testid="signin"]');
      await dialog.waitFor({ state: 'visible' });
      assert.equal(await tab.locator('[data-testid="node-card"]').count(), 0, 'nothing is shown before signing in');
      const message = dialog.locator('[data-role="message"]');
      await tab.fill('[data-testid="signin-key"]', 'not-a-key');
      await tab.click('[data-testid="signin-submit"]');
      await tab.waitForFunction(() => /does not know/.test(document.querySelector('#signin [data-role="message"]').textContent));
      await tab.fill('[data-testid="signin-key"]', USER);
      await tab.click('[data-testid="signin-submit"]');
      await tab.waitForFunction(() => /not an admin key/.test(document.querySelector('#signin [data-role="message"]').textContent));
      await tab.fill('[data-testid="signin-key"]', ADMIN);
      await tab.click('[data-testid="signin-submit"]');
      await dialog.waitFor({ state: 'hidden' });
      await tab.locator('[data-testid="connection"][data-state="open"]').waitFor();
      await tab.waitForFunction((n) => document.querySelectorAll('[data-testid="node-card"]').length === n, sims.length);
      assert.ok((await message.textContent()).length > 0);
      // The key is kept for the tab: a reload does not ask again.
      await tab.reload();
      await tab.locator('[data-testid="connection"][data-state="open"]').waitFor();
      assert.equal(await dialog.isVisible(), false, 'no second sign-in after a reload');
      // The playground sends its prompt to the API's port with the key.
      await tab.goto(`${keyed.dashboardUrl}/#playground`);
      await tab.locator(`[data-testid="pg-model"] option[value="tiny-chat:latest"]`).waitFor({ state: 'attached' });
      await tab.selectOption('[data-testid="pg-model"]', 'tiny-chat:latest');
      await tab.fill('[data-testid="pg-prompt"]', 'hello with a key');
      await tab.click('[data-testid="pg-send"]');
      await tab.locator('[data-testid="pg-node"]').waitFor();
      assert.match(await tab.locator('[data-testid="pg-reply"]').textContent(), /^small:/);
      await tab.screenshot({ path: join(SCREENSHOTS, 'signed-in.png') });
    } finally {
      await context.close().catch(() => {});
      await keyed.stop().catch(() => {});
    }
  });
});
