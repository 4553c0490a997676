// End-to-end: the official `ollama` npm client (ollama-js) against one `hydra sim` node.
// The tests themselves are in lib/client_suite.mjs, shared with gateway_client.test.mjs.
// Run: cd tests/e2e && npm install && node --test   (HYDRA_BIN overrides the binary)
import { after, before } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { clientSimArgs, defineClientSuite } from './lib/client_suite.mjs';
import { simStats, startSim } from './lib/sim.mjs';

const NODE = 'alpha';

let sim;
let scratch;
let target;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'hydra-e2e-'));
  sim = await startSim({ args: await clientSimArgs(NODE, scratch) });
  target = {
    url: sim.url,
    nodeNames: [NODE],
    nodeStats: async () => [await simStats(sim.url)],
    // A node's own view is always current: nothing to wait for.
    awaitModel: async () => {},
    logs: () => `hydra sim ${NODE} stderr:\n${sim.stderr()}`,
  };
});

after(async () => {
  if (sim) await sim.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

defineClientSuite(() => target);
