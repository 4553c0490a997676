// End-to-end: the official `ollama` npm client (ollama-js) against `hydra sim`.
// Run: cd tests/e2e && npm install && node --test   (HYDRA_BIN overrides the binary)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';

import { getJson, simStats, startSim, waitFor } from './lib/sim.mjs';

const NODE = 'alpha';
const CHAT_MODEL = 'llama3.2:3b'; // --model llama3.2:3b=2 -> size 2e9
const SMALL_MODEL = 'tiny-chat:latest'; // given as tiny-chat=0.5
const EMBED_MODEL = 'nomic-embed-text:latest';
const LONG_PROMPT = 'tell me a very long story';
const T = { timeout: 15_000 }; // per-test deadline

// A scripted reply long and slow enough (300 tokens at 20/s = 15 s) that an abort is
// always mid-stream.
const LONG_REPLY = `${NODE}: ${Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ')}`;

let sim;
let ollama;
let scratch;

async function collect(iterable, { max = 10_000 } = {}) {
  const parts = [];
  for await (const part of iterable) {
    parts.push(part);
    assert.ok(parts.length <= max, `stream longer than ${max} parts`);
  }
  return parts;
}

async function listNames() {
  const { models } = await ollama.list();
  return models.map((m) => m.name);
}

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

// Asserts that `promise` rejects with ollama-js's ResponseError carrying `status` and a
// message containing `text`.
async function assertResponseError(promise, status, text) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, 'ResponseError', `unexpected error ${err.stack}`);
    assert.equal(err.status_code, status);
    assert.match(err.message, text);
    assert.equal(err.error, err.message);
    return true;
  });
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'hydra-e2e-'));
  const script = join(scratch, 'script.json');
  await writeFile(script, JSON.stringify([{ match: `^${LONG_PROMPT}`, reply: LONG_REPLY, tokens_per_second: 20 }]));
  sim = await startSim({
    args: [
      '--name', NODE,
      '--model', `${CHAT_MODEL}=2`,
      '--model', 'tiny-chat=0.5',
      '--model', 'nomic-embed-text=0.27',
      '--tokens-per-second', '200',
      '--load-seconds', '0.2',
      '--seed', '7',
      '--script', script,
    ],
  });
  ollama = new Ollama({ host: sim.url });
});

after(async () => {
  if (sim) await sim.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('server basics', () => {
  it('answers / and /api/version', T, async () => {
    const res = await fetch(`${sim.url}/`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Ollama is running');
    const head = await fetch(`${sim.url}/`, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
    assert.equal(head.status, 200);

    const { version } = await ollama.version();
    assert.match(version, /^\d+\.\d+\.\d+/);
  });
});

describe('chat', () => {
  const messages = [{ role: 'user', content: 'Why is the sky blue?' }];

  it('streams several chunks that add up to the reply, ending with done', T, async () => {
    const stream = await ollama.chat({ model: CHAT_MODEL, messages, stream: true });
    const parts = await collect(stream);
    assert.ok(parts.length >= 3, `only ${parts.length} parts`);

    const last = parts.at(-1);
    const content = parts.slice(0, -1);
    assert.ok(content.length >= 2, 'several content chunks before the final one');
    for (const p of content) {
      assert.equal(p.done, false);
      assert.equal(p.model, CHAT_MODEL);
      assert.equal(p.message.role, 'assistant');
      assert.equal(typeof p.message.content, 'string');
      assert.ok(!Number.isNaN(Date.parse(p.created_at)), `created_at ${p.created_at}`);
    }
    const text = parts.map((p) => p.message.content).join('');
    assert.ok(text.length > 0);
    assert.ok(text.startsWith(NODE), `reply "${text}" starts with the node name`);

    assert.equal(last.done, true);
    assert.equal(last.done_reason, 'stop');
    assert.equal(last.eval_count, content.length, 'one token per content chunk');
    for (const field of ['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_duration']) {
      assert.equal(typeof last[field], 'number', field);
      assert.ok(last[field] >= 0, field);
    }
    assert.ok(last.prompt_eval_count > 0);
    assert.ok(last.eval_duration > 0);
    assert.ok(last.total_duration >= last.eval_duration);
  });

  it('answers in one object when not streamed, with the same text', T, async () => {
    const streamed = (await collect(await ollama.chat({ model: CHAT_MODEL, messages, stream: true })))
      .map((p) => p.message.content)
      .join('');
    const res = await ollama.chat({ model: CHAT_MODEL, messages }); // stream defaults to false in ollama-js
    assert.equal(res.done, true);
    assert.equal(res.done_reason, 'stop');
    assert.equal(res.model, CHAT_MODEL);
    assert.equal(res.message.role, 'assistant');
    assert.ok(res.message.content.startsWith(NODE), res.message.content);
    assert.equal(res.message.content, streamed, 'same prompt, same reply (deterministic sim)');
    assert.ok(res.eval_count > 0);
    assert.ok(res.prompt_eval_count > 0);
  });

  it('stops at num_predict with done_reason "length"', T, async () => {
    const res = await ollama.chat({ model: CHAT_MODEL, messages, options: { num_predict: 3 } });
    assert.equal(res.done_reason, 'length');
    assert.equal(res.eval_count, 3);
    assert.ok(res.message.content.startsWith(NODE));
  });
});

describe('generate', () => {
  const prompt = 'Write a haiku about GPUs';

  it('streams several chunks that add up to the reply, ending with done', T, async () => {
    const parts = await collect(await ollama.generate({ model: CHAT_MODEL, prompt, stream: true }));
    const last = parts.at(-1);
    const content = parts.slice(0, -1);
    assert.ok(content.length >= 2, `only ${content.length} content chunks`);
    for (const p of content) {
      assert.equal(p.done, false);
      assert.equal(typeof p.response, 'string');
    }
    const text = parts.map((p) => p.response).join('');
    assert.ok(text.startsWith(NODE), `reply "${text}" starts with the node name`);
    assert.equal(last.done, true);
    assert.equal(last.done_reason, 'stop');
    assert.equal(last.eval_count, content.length);
    assert.ok(Array.isArray(last.context) && last.context.length > 0, 'generate returns a context');
  });

  it('answers in one object when not streamed, with the same text', T, async () => {
    const streamed = (await collect(await ollama.generate({ model: CHAT_MODEL, prompt, stream: true })))
      .map((p) => p.response)
      .join('');
    const res = await ollama.generate({ model: CHAT_MODEL, prompt, stream: false });
    assert.equal(res.done, true);
    assert.equal(res.done_reason, 'stop');
    assert.equal(res.response, streamed);
    assert.ok(res.response.startsWith(NODE));
    assert.ok(res.eval_count > 0);
    assert.ok(res.total_duration > 0);
    assert.ok(Array.isArray(res.context) && res.context.length > 0);
  });

  it('a different prompt gives a different reply', T, async () => {
    const a = await ollama.generate({ model: CHAT_MODEL, prompt: 'first prompt' });
    const b = await ollama.generate({ model: CHAT_MODEL, prompt: 'an entirely different prompt' });
    assert.ok(a.response.startsWith(NODE) && b.response.startsWith(NODE));
    assert.notEqual(a.response, b.response);
  });
});

describe('models', () => {
  it('list shows the --model models with size, digest and details', T, async () => {
    const { models } = await ollama.list();
    const byName = new Map(models.map((m) => [m.name, m]));
    for (const name of [CHAT_MODEL, SMALL_MODEL, EMBED_MODEL]) {
      const m = byName.get(name);
      assert.ok(m, `${name} in ${[...byName.keys()].join(', ')}`);
      assert.equal(m.model, name);
      assert.equal(typeof m.size, 'number');
      assert.ok(m.size > 0);
      assert.match(m.digest, /^[0-9a-f]{64}$/);
      assert.ok(!Number.isNaN(Date.parse(m.modified_at)));
      assert.equal(m.details.format, 'gguf');
      assert.equal(typeof m.details.family, 'string');
      assert.ok(m.details.family.length > 0);
      assert.ok(Array.isArray(m.details.families));
      assert.match(m.details.parameter_size, /^\d+(\.\d+)?[BM]$/);
      assert.equal(typeof m.details.quantization_level, 'string');
    }
    assert.equal(byName.get(CHAT_MODEL).size, 2_000_000_000);
    assert.equal(byName.get(SMALL_MODEL).size, 500_000_000);
    assert.equal(byName.get(CHAT_MODEL).details.family, 'llama');
    assert.notEqual(byName.get(CHAT_MODEL).digest, byName.get(SMALL_MODEL).digest);
  });

  it('ps shows a model resident after a generate, and it unloads with keep_alive 0', T, async () => {
    // Start from "not resident" so the check below proves the generate loaded it.
    const unload = await ollama.generate({ model: SMALL_MODEL, prompt: '', keep_alive: 0 });
    assert.equal(unload.done, true);
    assert.equal(unload.done_reason, 'unload');
    assert.ok(!(await ollama.ps()).models.some((m) => m.name === SMALL_MODEL));

    const res = await ollama.generate({ model: SMALL_MODEL, prompt: 'hello there' });
    assert.ok(res.load_duration > 0, 'a cold load took time');
    const { models } = await ollama.ps();
    const m = models.find((x) => x.name === SMALL_MODEL);
    assert.ok(m, `${SMALL_MODEL} resident: ${JSON.stringify(models)}`);
    assert.equal(m.model, SMALL_MODEL);
    assert.equal(m.size, 500_000_000);
    assert.equal(typeof m.size_vram, 'number');
    assert.ok(m.size_vram > 0 && m.size_vram <= m.size);
    assert.match(m.digest, /^[0-9a-f]{64}$/);
    assert.ok(Date.parse(m.expires_at) > Date.now(), `expires_at ${m.expires_at} in the future`);
    assert.equal(m.details.family, 'tiny');

    const again = await ollama.generate({ model: SMALL_MODEL, prompt: '', keep_alive: 0 });
    assert.equal(again.done_reason, 'unload');
    assert.ok(!(await ollama.ps()).models.some((x) => x.name === SMALL_MODEL), 'unloaded');

    const load = await ollama.generate({ model: SMALL_MODEL, prompt: '' });
    assert.equal(load.done, true);
    assert.equal(load.done_reason, 'load');
    assert.ok((await ollama.ps()).models.some((x) => x.name === SMALL_MODEL), 'loaded by an empty prompt');
  });

  it('show gives details, model_info and capabilities', T, async () => {
    const res = await ollama.show({ model: CHAT_MODEL });
    assert.equal(res.details.family, 'llama');
    assert.equal(res.details.format, 'gguf');
    assert.ok(res.details.parameter_size);
    assert.equal(typeof res.modelfile, 'string');
    assert.equal(typeof res.template, 'string');
    assert.equal(res.model_info['general.architecture'], 'llama');
    assert.ok(res.capabilities.includes('completion'));

    const embed = await ollama.show({ model: 'nomic-embed-text' });
    assert.ok(embed.capabilities.includes('embedding'));

    await assertResponseError(ollama.show({ model: 'no-such-model' }), 404, /not found/);
  });

  it('pull streams progress ending in "success", then list has the model', T, async () => {
    const name = 'phi3:mini';
    assert.ok(!(await listNames()).includes(name));
    const parts = await collect(await ollama.pull({ model: name, stream: true }), { max: 1000 });
    assert.ok(parts.length >= 3, `${parts.length} progress objects`);
    for (const p of parts) assert.equal(typeof p.status, 'string');
    assert.equal(parts.at(-1).status, 'success');
    const downloads = parts.filter((p) => typeof p.total === 'number');
    assert.ok(downloads.length >= 2, 'byte progress reported');
    for (const p of downloads) {
      assert.match(p.digest, /^sha256:[0-9a-f]{64}$/);
      assert.ok(p.completed >= 0 && p.completed <= p.total);
    }
    for (let i = 1; i < downloads.length; i++) assert.ok(downloads[i].completed >= downloads[i - 1].completed);
    assert.equal(downloads.at(-1).completed, downloads.at(-1).total);

    assert.ok((await listNames()).includes(name), 'pulled model listed');
    const res = await ollama.generate({ model: name, prompt: 'hi' });
    assert.ok(res.response.startsWith(NODE), 'pulled model answers');

    const again = await ollama.pull({ model: 'smollm:135m' }); // not streamed
    assert.equal(again.status, 'success');
    assert.ok((await listNames()).includes('smollm:135m'));
  });

  it('copy adds a model, delete removes it', T, async () => {
    const dest = 'my-copy:v1';
    assert.ok(!(await listNames()).includes(dest));
    assert.deepEqual(await ollama.copy({ source: CHAT_MODEL, destination: dest }), { status: 'success' });
    const { models } = await ollama.list();
    const src = models.find((m) => m.name === CHAT_MODEL);
    const copy = models.find((m) => m.name === dest);
    assert.ok(copy, 'copy listed');
    assert.equal(copy.digest, src.digest);
    assert.equal(copy.size, src.size);
    assert.ok((await ollama.generate({ model: dest, prompt: 'hi' })).response.startsWith(NODE));

    assert.deepEqual(await ollama.delete({ model: dest }), { status: 'success' });
    assert.ok(!(await listNames()).includes(dest), 'deleted model gone');
    assert.ok((await listNames()).includes(CHAT_MODEL), 'source untouched');

    await assertResponseError(ollama.delete({ model: dest }), 404, /not found/);
    await assertResponseError(ollama.copy({ source: 'no-such-model', destination: 'x:y' }), 404, /not found/);
  });
});

describe('embeddings', () => {
  const cat1 = 'The cat sat on the mat in the warm sun';
  const cat2 = 'The cat sat on the mat in the sun';
  const other = 'Quantum chromodynamics describes strong interactions between quarks';

  it('embed returns one vector per input, of equal length, similar texts closer', T, async () => {
    const res = await ollama.embed({ model: EMBED_MODEL, input: [cat1, cat2, other] });
    assert.equal(res.model, EMBED_MODEL);
    assert.equal(res.embeddings.length, 3);
    const dim = res.embeddings[0].length;
    assert.ok(dim > 0);
    for (const v of res.embeddings) {
      assert.equal(v.length, dim);
      assert.ok(v.every((x) => typeof x === 'number' && Number.isFinite(x)));
      assert.ok(v.some((x) => x !== 0), 'non-zero vector');
    }
    const [a, b, c] = res.embeddings;
    const similar = cosine(a, b);
    const unrelated = cosine(a, c);
    assert.ok(similar > unrelated, `cos(similar)=${similar} > cos(unrelated)=${unrelated}`);
    assert.ok(similar > 0.8, `cos(similar)=${similar}`);
    assert.ok(Math.abs(cosine(a, a) - 1) < 1e-5);

    const single = await ollama.embed({ model: EMBED_MODEL, input: cat1 });
    assert.equal(single.embeddings.length, 1);
    assert.equal(single.embeddings[0].length, dim);
    assert.ok(cosine(single.embeddings[0], a) > 0.99999, 'same text, same vector');
  });

  it('legacy embeddings returns one vector matching embed', T, async () => {
    assert.equal(typeof ollama.embeddings, 'function');
    const { embedding } = await ollama.embeddings({ model: EMBED_MODEL, prompt: cat1 });
    const { embeddings } = await ollama.embed({ model: EMBED_MODEL, input: cat1 });
    assert.equal(embedding.length, embeddings[0].length);
    assert.ok(cosine(embedding, embeddings[0]) > 0.99999);
    const far = (await ollama.embeddings({ model: EMBED_MODEL, prompt: other })).embedding;
    assert.ok(cosine(embedding, far) < cosine(embedding, (await ollama.embeddings({ model: EMBED_MODEL, prompt: cat2 })).embedding));
  });
});

describe('errors', () => {
  it('an unknown model is a 404 ResponseError saying "not found"', T, async () => {
    const messages = [{ role: 'user', content: 'hi' }];
    await assertResponseError(ollama.chat({ model: 'no-such-model', messages }), 404, /not found/);
    await assertResponseError(ollama.chat({ model: 'no-such-model', messages, stream: true }), 404, /not found/);
    await assertResponseError(ollama.generate({ model: 'no-such-model', prompt: 'hi' }), 404, /not found/);
    await assertResponseError(ollama.generate({ model: 'no-such-model', prompt: 'hi', stream: true }), 404, /not found/);
    await assertResponseError(ollama.embed({ model: 'no-such-model', input: 'hi' }), 404, /not found/);
  });

  it('a missing model is a 400 "model is required"', T, async () => {
    await assertResponseError(ollama.generate({ model: '', prompt: 'hi' }), 400, /model is required/);
    await assertResponseError(ollama.chat({ model: '', messages: [] }), 400, /model is required/);
  });

  it('an embedding model refuses generate with a 400', T, async () => {
    await assertResponseError(ollama.generate({ model: EMBED_MODEL, prompt: 'hi' }), 400, /does not support generate/);
  });
});

describe('abort', () => {
  async function cancelledNow() {
    return (await simStats(sim.url)).cancelled;
  }

  it('aborting a streamed chat mid-stream cancels it on the node', T, async () => {
    const before = await cancelledNow();
    const stream = await ollama.chat({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: LONG_PROMPT }],
      stream: true,
    });
    const got = [];
    await assert.rejects(
      (async () => {
        for await (const part of stream) {
          got.push(part);
          if (got.length === 2) stream.abort();
          assert.ok(got.length < 50, 'abort took effect');
        }
      })(),
      (err) => err.name === 'AbortError',
    );
    assert.ok(got.length >= 2 && got.every((p) => !p.done), 'aborted before the end');
    assert.equal(got[0].message.content, NODE + ':', 'scripted reply');

    const stats = await waitFor(async () => {
      const s = await simStats(sim.url);
      return s.cancelled >= before + 1 && s.active === 0 ? s : null;
    }, { timeoutMs: 5_000, what: 'cancelled to rise on /_sim/stats' });
    assert.ok(stats.cancelled >= 1);
  });

  it('client.abort() cancels every ongoing stream', T, async () => {
    const before = await cancelledNow();
    const start = () => ollama.generate({ model: CHAT_MODEL, prompt: `${LONG_PROMPT}, please`, stream: true });
    const streams = [await start(), await start()];
    // Read one chunk from each so both generations are running on the node.
    const iterators = streams.map((s) => s[Symbol.asyncIterator]());
    for (const it of iterators) {
      const first = await it.next();
      assert.equal(first.done, false);
      assert.equal(first.value.response, NODE + ':');
    }
    ollama.abort();
    for (const it of iterators) {
      await assert.rejects(
        (async () => {
          for (let i = 0; i < 1000; i++) if ((await it.next()).done) return;
        })(),
        (err) => err.name === 'AbortError',
      );
    }
    await waitFor(async () => (await cancelledNow()) >= before + 2, {
      timeoutMs: 5_000,
      what: 'two more cancellations on /_sim/stats',
    });
    const s = await simStats(sim.url);
    assert.equal(s.active, 0);
    assert.ok(s.requests_by_path['/api/generate'] >= 2);
  });

  it('the node still serves after the cancellations', T, async () => {
    const res = await ollama.chat({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'still there?' }] });
    assert.ok(res.message.content.startsWith(NODE));
    const stats = await getJson(sim.url, '/_sim/stats');
    assert.equal(stats.name, NODE);
    assert.ok(stats.completed >= 1);
    assert.ok(stats.generations >= stats.completed + stats.cancelled);
  });
});
