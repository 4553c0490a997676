// End-to-end: one `hydra sim` process serving 200 nodes, each on its own free port.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';

import { getJson, mapLimit, startSim } from './lib/sim.mjs';

const NODES = 200;
let sim;

before(async () => {
  sim = await startSim({ nodes: NODES, args: ['--name', 'fleet'], startTimeoutMs: 10_000 });
});

after(async () => {
  if (sim) await sim.stop();
});

it(`prints ${NODES} distinct URLs`, { timeout: 5_000 }, () => {
  assert.equal(sim.nodes.length, NODES);
  const urls = new Set(sim.nodes.map((n) => n.url));
  assert.equal(urls.size, NODES, 'distinct URLs');
  const ports = new Set();
  for (const { url } of sim.nodes) {
    const u = new URL(url);
    assert.equal(u.protocol, 'http:');
    assert.equal(u.hostname, '127.0.0.1');
    const port = Number(u.port);
    assert.ok(port > 0 && port < 65536, url);
    ports.add(port);
  }
  assert.equal(ports.size, NODES, 'distinct ports');
  assert.equal(new Set(sim.nodes.map((n) => n.name)).size, NODES, 'distinct names');
  assert.deepEqual(
    sim.nodes.map((n) => n.name),
    Array.from({ length: NODES }, (_, i) => `fleet-${i + 1}`),
  );
});

it(`each of the ${NODES} nodes answers /api/version (20 at a time)`, { timeout: 30_000 }, async () => {
  const versions = await mapLimit(sim.nodes, 20, ({ url }) => getJson(url, '/api/version'));
  assert.equal(versions.length, NODES);
  for (const v of versions) {
    assert.equal(typeof v.version, 'string');
    assert.match(v.version, /^\d+\.\d+\.\d+/);
  }
  // Each URL reaches its own node: the node's name matches the printed line, and it saw
  // exactly the one /api/version request sent to it.
  const stats = await mapLimit(sim.nodes, 20, ({ url }) => getJson(url, '/_sim/stats'));
  stats.forEach((s, i) => {
    assert.equal(s.name, sim.nodes[i].name);
    assert.equal(s.requests_by_path['/api/version'], 1, sim.nodes[i].url);
  });
});

it('the official client talks to a sample of the nodes', { timeout: 15_000 }, async () => {
  const sample = [0, 1, 99, NODES - 1].map((i) => sim.nodes[i]);
  for (const node of sample) {
    const ollama = new Ollama({ host: node.url });
    assert.match((await ollama.version()).version, /^\d+\.\d+\.\d+/);
    const res = await ollama.generate({ model: 'llama3.2:3b', prompt: '', keep_alive: 0 });
    assert.equal(res.done_reason, 'unload');
    const { models } = await ollama.list();
    assert.deepEqual(
      models.map((m) => m.name).sort(),
      ['llama3.2:3b', 'nomic-embed-text:latest', 'qwen2.5-coder:7b'],
      'the default models',
    );
  }
});
