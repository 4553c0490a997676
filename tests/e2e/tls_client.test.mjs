// End-to-end over HTTPS: the official `ollama` and `openai` npm clients against `hydra serve
// --tls-cert`, which relays to an HTTPS `hydra sim` node verified with --tls-node-ca. The
// certificates are made for the run (lib/certs.mjs). The clients run in a child `node` process
// (lib/tls_child.mjs) whose NODE_EXTRA_CA_CERTS names the test CA, as a user would trust an
// own CA; without it the same child must refuse the gateway.
// Run: cd tests/e2e && npm install && node --test tls_client.test.mjs   (HYDRA_BIN overrides the binary)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeCerts } from './lib/certs.mjs';
import { startGateway } from './lib/gateway.mjs';
import { startSim } from './lib/sim.mjs';

const MODEL = 'tls-chat:latest';
const CHILD = fileURLToPath(new URL('./lib/tls_child.mjs', import.meta.url));
const T = { timeout: 30_000 };

let scratch;
let certs;
let sim;
let gateway;

// Runs the client child against the gateway; its one JSON line, parsed.
function runClients(env) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CHILD, gateway.url, MODEL], { env, timeout: 25_000 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`client child failed: ${err.message}; stderr: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

function childEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));
  return { ...env, ...extra };
}

describe('official clients over HTTPS', () => {
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'hydra-e2e-tls-'));
    certs = makeCerts(scratch);
    sim = await startSim({
      args: ['--name', 'secure', '--model', 'tls-chat=0.5', '--load-seconds', '0', '--tokens-per-second', '200',
        '--tls-cert', certs.cert, '--tls-key', certs.key],
    });
    assert.match(sim.url, /^https:\/\//);
    gateway = await startGateway({
      nodes: [sim.url],
      args: ['--tls-cert', certs.cert, '--tls-key', certs.key, '--tls-node-ca', certs.ca],
    });
    assert.match(gateway.url, /^https:\/\//);
  });

  after(async () => {
    await gateway?.stop();
    await sim?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('ollama and openai clients work through the HTTPS gateway to the HTTPS node', T, async () => {
    const r = await runClients(childEnv({ NODE_EXTRA_CA_CERTS: certs.ca }));
    assert.equal(r.error, undefined, `${JSON.stringify(r)}\n${gateway.stderr()}`);
    assert.ok(r.version);
    assert.ok(r.tags.includes(MODEL), JSON.stringify(r.tags));
    assert.ok(r.chat.done && r.chat.chunks > 2 && r.chat.text.startsWith('secure:'), JSON.stringify(r.chat));
    assert.ok(r.generate.startsWith('secure:'), r.generate);
    assert.ok(r.openai.startsWith('secure:'), r.openai);
    assert.ok(r.openaiStream.events > 2 && r.openaiStream.text.startsWith('secure:'), JSON.stringify(r.openaiStream));
  });

  it('a client that does not trust the CA refuses the gateway', T, async () => {
    const r = await runClients(childEnv());
    assert.ok(r.error, JSON.stringify(r));
    assert.match(r.error, /certificate|SELF_SIGNED|UNABLE_TO|fetch failed|Connection error/i);
    assert.equal(r.version, undefined);
  });
});
