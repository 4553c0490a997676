// End-to-end: the official `ollama` npm client (ollama-js) against the gateway, `hydra serve`,
// in front of two `hydra sim` nodes that hold the same models (so routing has a choice).
// The client suite (lib/client_suite.mjs) is the same one sim_client.test.mjs runs against a
// single sim; the gateway-specific checks follow it.
// Run: cd tests/e2e && npm install && node --test   (HYDRA_BIN overrides the binary)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';

import { CHAT_MODEL, LONG_PROMPT, clientSimArgs, defineClientSuite } from './lib/client_suite.mjs';
import { startGateway } from './lib/gateway.mjs';
import { getJson, simStats, startSim, waitFor } from './lib/sim.mjs';

const NODES = ['alpha', 'beta'];
const T = { timeout: 15_000 };

let scratch;
let sims = []; // [{ name, url, sim }]
let gateway;
let target;

// "host:port" of a node URL: how the gateway names nodes (X-Hydra-Node, "node" in /api/ps).
const idOf = (url) => new URL(url).host;
const simById = (id) => sims.find((s) => idOf(s.url) === id);

async function post(path, body, { headers = {} } = {}) {
  const res = await fetch(gateway.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { res, text: await res.text() };
}

// How the gateway would route a request for `model` now: POST /api/show goes through the same
// routing as generate/chat, and says where and why in its response headers.
async function routeOf(model) {
  const { res } = await post('/api/show', { model });
  return { status: res.status, node: res.headers.get('x-hydra-node'), reason: res.headers.get('x-hydra-route-reason') ?? '' };
}

async function tagNames(url) {
  return (await getJson(url, '/api/tags')).models.map((m) => m.name);
}

// Waits until requests for `model` through the gateway see it in `state` (see client_suite.mjs).
// /api/tags is what the client lists; /api/show is routed like a generate, through the
// gateway's view of the nodes, which it refreshes right after a change passes through it.
async function awaitModel(model, state) {
  const full = model.includes(':') ? model : `${model}:latest`;
  await waitFor(async () => {
    const listed = (await tagNames(gateway.url)).includes(full);
    const route = await routeOf(model);
    switch (state) {
      case 'listed':
        return listed && route.status === 200;
      case 'resident':
        return listed && route.status === 200 && /: resident/.test(route.reason);
      case 'gone':
        return !listed && route.status === 404;
      default:
        throw new Error(`awaitModel: unknown state ${state}`);
    }
  }, { timeoutMs: 8_000, intervalMs: 50, what: `${model} to be ${state} through the gateway` });
}

function logs() {
  const parts = [`hydra serve stderr:\n${gateway?.stderr() ?? '(not started)'}`];
  for (const s of sims) parts.push(`hydra sim ${s.name} (${s.url}) stderr:\n${s.sim.stderr() || '(empty)'}`);
  return parts.join('\n');
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'hydra-e2e-gw-'));
  // One process per sim: each has its own name and its own scripted reply naming it.
  sims = await Promise.all(
    NODES.map(async (name) => {
      const sim = await startSim({ args: await clientSimArgs(name, scratch) });
      return { name, url: sim.url, sim };
    }),
  );
  try {
    gateway = await startGateway({ nodes: sims.map((s) => s.url) });
  } catch (err) {
    err.message += `\n${logs()}`;
    throw err;
  }
  target = {
    url: gateway.url,
    nodeNames: NODES,
    nodeStats: () => Promise.all(sims.map((s) => simStats(s.url))),
    awaitModel,
    logs,
  };
});

after(async () => {
  // The gateway first, so it does not log the sims going away.
  if (gateway) await gateway.stop();
  await Promise.all(sims.map((s) => s.sim.stop()));
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

defineClientSuite(() => target);

describe('gateway specifics', () => {
  // `it` that prints the gateway's and sims' logs when the test fails.
  function test(name, fn) {
    it(name, T, async (t) => {
      try {
        await fn(t);
      } catch (err) {
        console.error(`--- "${name}" failed ---\n${logs()}\n--- end of logs ---`);
        throw err;
      }
    });
  }

  test('reports the fleet after its first probe round', () => {
    // The same 3 models on each of the 2 sims when the gateway started: 3 distinct models.
    assert.deepEqual(gateway.fleet, { reachable: 2, total: 2, models: 3 });
  });

  test('/api/version is the nodes\' version, and says it is a Hydra gateway', async () => {
    const versions = await Promise.all(sims.map((s) => getJson(s.url, '/api/version')));
    const lowest = versions.map((v) => v.version).sort()[0];
    const { version, hydra, ...rest } = await getJson(gateway.url, '/api/version');
    assert.equal(version, lowest);
    assert.match(hydra, /^\d+\.\d+\.\d+/);
    assert.deepEqual(rest, {});
    assert.equal((await new Ollama({ host: gateway.url }).version()).version, lowest);  // the official client, as before
  });

  test('a routed request says which node served it and why', async () => {
    const { res, text } = await post('/api/generate', { model: CHAT_MODEL, prompt: 'which node?', stream: false });
    assert.equal(res.status, 200, text);
    const node = res.headers.get('x-hydra-node');
    const sim = simById(node);
    assert.ok(sim, `X-Hydra-Node ${node} is one of ${sims.map((s) => idOf(s.url)).join(', ')}`);
    assert.ok(res.headers.get('x-hydra-route-reason'), 'X-Hydra-Route-Reason set');
    assert.ok(JSON.parse(text).response.startsWith(`${sim.name}:`), `reply from ${sim.name}: ${text}`);
  });

  test('a stream the official client aborts is counted abandoned on its node, not failed', async () => {
    const after = (await getJson(gateway.url, '/routing')).decisions.at(-1)?.seq ?? 0;
    // Earlier tests' requests may have failed (a show of a model deleted a moment before): this
    // one must add nothing to them.
    const failedLines = (text) => text.split('\n').filter((l) => /^hydra_requests_total\{[^}]*outcome="failed"\}/.test(l));
    const failedBefore = failedLines(await (await fetch(`${gateway.url}/metrics`)).text());
    const stream = await new Ollama({ host: gateway.url }).chat({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: `${LONG_PROMPT} to abandon` }],
      stream: true,
    });
    let parts = 0;
    await assert.rejects(
      (async () => {
        for await (const part of stream) {
          assert.equal(part.done, false);
          if (++parts === 1) stream.abort();
        }
      })(),
      (err) => err.name === 'AbortError',
    );
    const decision = await waitFor(async () => (await getJson(gateway.url, `/routing?after=${after}`)).decisions[0], {
      timeoutMs: 5_000,
      what: 'the aborted request in /routing',
    });
    assert.equal(decision.outcome, 'abandoned', JSON.stringify(decision));
    assert.ok(simById(decision.selected_node), `selected_node ${decision.selected_node} is one of the sims`);
    assert.match(decision.reason, /abandoned: the client left after \d+ ms and \d+ chunks/);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.ok(metrics.includes(`node="${decision.selected_node}",outcome="abandoned"}`), metrics);
    assert.deepEqual(failedLines(metrics), failedBefore, 'no request counted failed since the abort');
  });

  test('/api/tags lists each model once; /api/ps lists each resident copy with its node', async () => {
    const names = await tagNames(gateway.url);
    assert.equal(new Set(names).size, names.length, `no duplicates in ${names.join(', ')}`);
    const onSims = new Set((await Promise.all(sims.map((s) => tagNames(s.url)))).flat());
    assert.deepEqual([...names].sort(), [...onSims].sort(), 'the union of the nodes\' models');

    // Load the chat model on every sim (directly), then ask the gateway.
    for (const s of sims) {
      const res = await new Ollama({ host: s.url }).generate({ model: CHAT_MODEL, prompt: '' });
      assert.equal(res.done, true);
    }
    const { models } = await new Ollama({ host: gateway.url }).ps();
    const copies = models.filter((m) => m.name === CHAT_MODEL);
    assert.deepEqual(copies.map((m) => m.node).sort(), sims.map((s) => idOf(s.url)).sort(), JSON.stringify(models));
    for (const m of models) assert.ok(simById(m.node), `ps entry ${m.name} names a node: ${m.node}`);
  });

  test('X-Hydra-Pull: all pulls on every node; delete removes it from every node', async () => {
    const name = 'qwen2:0.5b';
    // The stream as sent: one line per node, then the overall verdict.
    const { res, text } = await post('/api/pull', { model: name }, { headers: { 'X-Hydra-Pull': 'all' } });
    assert.equal(res.status, 200, text);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.at(-1), { status: 'success' }, text);
    assert.deepEqual(
      lines.slice(0, -1).sort((a, b) => a.node.localeCompare(b.node)),
      sims.map((s) => ({ status: 'pulled', node: idOf(s.url) })).sort((a, b) => a.node.localeCompare(b.node)),
      text,
    );
    for (const s of sims) assert.ok((await tagNames(s.url)).includes(name), `${s.name} has ${name}`);

    // The official client, streamed and not: it ends at the first "success" it reads.
    const everywhere = new Ollama({ host: gateway.url, headers: { 'X-Hydra-Pull': 'all' } });
    const parts = [];
    for await (const p of await everywhere.pull({ model: 'qwen2:1.5b', stream: true })) parts.push(p);
    assert.equal(parts.at(-1).status, 'success', JSON.stringify(parts));
    for (const s of sims) assert.ok((await tagNames(s.url)).includes('qwen2:1.5b'), `${s.name} has qwen2:1.5b`);
    assert.deepEqual(await everywhere.pull({ model: name }), { status: 'success' });

    // Delete goes to every node the gateway knows has the model: wait until it knows both.
    await waitFor(async () => / (on disk on|of) 2 /.test((await routeOf(name)).reason), {
      timeoutMs: 8_000,
      intervalMs: 50,
      what: `the gateway to see ${name} on both nodes`,
    });
    const ollama = new Ollama({ host: gateway.url });
    assert.deepEqual(await ollama.delete({ model: name }), { status: 'success' });
    for (const s of sims) assert.ok(!(await tagNames(s.url)).includes(name), `${s.name} no longer has ${name}`);
  });

  test('errors are in Ollama\'s words', async () => {
    let { res, text } = await post('/api/generate', { model: 'no-such-model', prompt: 'hi' });
    assert.equal(res.status, 404);
    assert.deepEqual(JSON.parse(text), { error: 'model "no-such-model" not found, try pulling it first' });
    ({ res, text } = await post('/api/chat', { messages: [{ role: 'user', content: 'hi' }] }));
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(text), { error: 'model is required' });
  });
});

// A node that answers the gateway's probes like Ollama (no models) but fails every pull, as a
// node with a full disk or no route to the registry would.
async function startFailingPullNode() {
  const pulls = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const reply = (status, obj) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(obj));
      };
      if (req.method === 'GET' && req.url === '/api/version') return reply(200, { version: '0.12.6' });
      if (req.method === 'GET' && (req.url === '/api/tags' || req.url === '/api/ps')) return reply(200, { models: [] });
      if (req.method === 'POST' && req.url === '/api/pull') {
        pulls.push(body);
        return reply(500, { error: 'simulated: no space left on device' });
      }
      return reply(404, { error: 'not found' });
    });
  });
  await new Promise((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(0, '127.0.0.1', resolveListen);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    pulls,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('X-Hydra-Pull: all when one node fails the pull', () => {
  let failing;
  let gw; // a second gateway: the first sim, then the failing node
  const name = 'gemma2:2b';

  before(async () => {
    failing = await startFailingPullNode();
    gw = await startGateway({ nodes: [sims[0].url, failing.url] });
  });

  after(async () => {
    if (gw) await gw.stop();
    if (failing) await failing.stop();
  });

  function test(title, options, fn) {
    it(title, { ...T, ...options }, async (t) => {
      try {
        await fn(t);
      } catch (err) {
        if (!options.todo) console.error(`--- "${title}" failed ---\nhydra serve stderr:\n${gw?.stderr()}\n--- end of logs ---`);
        throw err;
      }
    });
  }

  test('the stream names the failed node and ends in an error; not streamed, a 500', {}, async () => {
    const { res, text } = await fetch(`${gw.url}/api/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Hydra-Pull': 'all' },
      body: JSON.stringify({ model: name }),
      signal: AbortSignal.timeout(10_000),
    }).then(async (r) => ({ res: r, text: await r.text() }));
    assert.equal(res.status, 200, text);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    const byNode = Object.fromEntries(lines.slice(0, -1).map((l) => [l.node, l.status]));
    assert.deepEqual(byNode, { [idOf(sims[0].url)]: 'pulled', [idOf(failing.url)]: 'failed' }, text);
    assert.equal(failing.pulls.length, 1, 'the failing node was asked to pull');
    assert.match(lines.at(-1).error, new RegExp(`pull failed on ${idOf(failing.url)}`));

    const ollama = new Ollama({ host: gw.url, headers: { 'X-Hydra-Pull': 'all' } });
    await assert.rejects(ollama.pull({ model: name }), (err) => {
      assert.equal(err.name, 'ResponseError');
      assert.equal(err.status_code, 500);
      assert.match(err.message, /pull failed on/);
      return true;
    });
  });

  // ollama-js (like the Go client) ends a stream at the first "success" it reads: per-node lines
  // must not say "success", or a failed node would go unnoticed.
  test('the official client\'s streamed pull fails when a node failed', {}, async () => {
    const ollama = new Ollama({ host: gw.url, headers: { 'X-Hydra-Pull': 'all' } });
    const seen = [];
    let error = null;
    try {
      for await (const p of await ollama.pull({ model: name, stream: true })) seen.push(p);
    } catch (err) {
      error = err;
    }
    assert.ok(error, `the official client read ${JSON.stringify(seen)} and reported no error`);
    assert.match(error.message, /pull failed on/);
  });
});
