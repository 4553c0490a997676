// The official `ollama` npm client (ollama-js) against anything that speaks the Ollama API and
// is backed by `hydra sim` nodes: one sim (sim_client.test.mjs), or the gateway `hydra serve`
// in front of several sims (gateway_client.test.mjs). The same tests, so a client that works
// against a node works against the gateway.
//
//   defineClientSuite(() => target);
//
// `target` (looked up when the tests run, i.e. after the caller's `before` hooks):
//   url          the base URL the client talks to
//   nodeNames    the names of the sims behind it; every reply starts with "NAME:" of the one
//                that served it
//   nodeStats()  resolves to the /_sim/stats of every sim behind it (each has .name)
//   awaitModel(model, state)
//                resolves once requests for `model` see it in `state`: 'listed' (on disk
//                somewhere, and routable), 'resident' (loaded somewhere, and requests go there)
//                or 'gone'. A sim is always up to date; the gateway refreshes its view of the
//                nodes right after a change passes through it, so the next request may have to
//                wait for that. Must poll with a deadline.
//   logs()       (optional) text to print when a test fails, e.g. the gateway's stderr
//
// The sims must be started with clientSimArgs(name, dir): they all hold the same models.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ollama } from 'ollama';

import { waitFor } from './sim.mjs';

export const CHAT_MODEL = 'llama3.2:3b'; // --model llama3.2:3b=2 -> size 2e9
export const SMALL_MODEL = 'tiny-chat:latest'; // given as tiny-chat=0.5
export const EMBED_MODEL = 'nomic-embed-text:latest';
export const LONG_PROMPT = 'tell me a very long story';
// A prompt the sims answer with a call of get_weather({"city":"Paris"}) when the request offers
// that tool (and in words once the call's result comes back).
export const TOOL_PROMPT = 'what is the weather in Paris?';
export const TOOL_CALL = { name: 'get_weather', arguments: { city: 'Paris' } };
const T = { timeout: 15_000 }; // per-test deadline

// A scripted reply long and slow enough (300 tokens at 20/s = 15 s) that an abort is
// always mid-stream. It starts with the node's name, like every reply of a sim.
function longReply(name) {
  return `${name}: ${Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ')}`;
}

/**
 * Writes the reply script for sim `name` into `dir` and returns the `hydra sim` flags the suite
 * expects: the same three models on every sim, quick loads and generations, a fixed seed, and
 * the scripted replies above (LONG_PROMPT, TOOL_PROMPT).
 */
export async function clientSimArgs(name, dir) {
  const script = join(dir, `script-${name}.json`);
  await writeFile(
    script,
    JSON.stringify([
      { match: `^${LONG_PROMPT}`, reply: longReply(name), tokens_per_second: 20 },
      { match: 'weather in Paris', tool_calls: [TOOL_CALL] },
    ]),
  );
  return [
    '--name', name,
    '--model', `${CHAT_MODEL}=2`,
    '--model', 'tiny-chat=0.5',
    '--model', 'nomic-embed-text=0.27',
    '--tokens-per-second', '200',
    '--load-seconds', '0.2',
    '--seed', '7',
    '--script', script,
  ];
}

async function collect(iterable, { max = 10_000 } = {}) {
  const parts = [];
  for await (const part of iterable) {
    parts.push(part);
    assert.ok(parts.length <= max, `stream longer than ${max} parts`);
  }
  return parts;
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

function sum(list, pick) {
  return list.reduce((acc, s) => acc + (pick(s) ?? 0), 0);
}

/**
 * Defines the client tests. `getTarget()` is called when each test runs (see the top of this
 * file for what it returns).
 */
export function defineClientSuite(getTarget) {
  let cached;
  // The target and a client for it, made once the caller's `before` hooks have run.
  function ctx() {
    const target = getTarget();
    assert.ok(target?.url, 'the suite target has a url');
    if (!cached || cached.target !== target) cached = { target, ollama: new Ollama({ host: target.url }) };
    return cached;
  }
  const target = () => ctx().target;
  const client = () => ctx().ollama;

  // `it` with the suite's deadline that, when the test fails, prints the target's logs.
  function test(name, fn) {
    it(name, T, async (t) => {
      try {
        await fn(t);
      } catch (err) {
        const logs = target().logs?.();
        if (logs) console.error(`--- "${name}" failed; logs behind ${target().url} ---\n${logs}\n--- end of logs ---`);
        throw err;
      }
    });
  }

  // The name of the node a reply came from (every reply starts with "NAME:"); asserts it is
  // one of the target's nodes.
  function nodeOf(text) {
    const { nodeNames } = target();
    const name = nodeNames.find((n) => text.startsWith(`${n}:`));
    assert.ok(name, `reply "${text.slice(0, 80)}" starts with the name of a node (${nodeNames.join(', ')})`);
    return name;
  }

  async function listNames() {
    const { models } = await client().list();
    return models.map((m) => m.name);
  }

  async function statsByName() {
    const list = await target().nodeStats();
    assert.equal(list.length, target().nodeNames.length, 'stats from every node');
    return new Map(list.map((s) => [s.name, s]));
  }

  // Runs `first` then `second` (each resolves to {text, ...}) until both replies come from the
  // same node, and returns them: a node's replies are deterministic, but behind a gateway two
  // requests may be served by different nodes (which say different things).
  async function fromSameNode(first, second, { tries = 20 } = {}) {
    const seen = [];
    for (let i = 0; i < tries; i++) {
      const a = await first();
      const b = await second();
      const na = nodeOf(a.text);
      const nb = nodeOf(b.text);
      if (na === nb) return [a, b];
      seen.push(`${na}/${nb}`);
    }
    assert.fail(`never served twice by the same node in ${tries} tries: ${seen.join(', ')}`);
  }

  describe('server basics', () => {
    test('answers / and /api/version', async () => {
      const { url } = target();
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(5_000) });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'Ollama is running');
      const head = await fetch(`${url}/`, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
      assert.equal(head.status, 200);

      const { version } = await client().version();
      assert.match(version, /^\d+\.\d+\.\d+/);
    });
  });

  describe('chat', () => {
    const messages = [{ role: 'user', content: 'Why is the sky blue?' }];

    test('streams several chunks that add up to the reply, ending with done', async () => {
      const stream = await client().chat({ model: CHAT_MODEL, messages, stream: true });
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
      nodeOf(text);

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

    test('answers in one object when not streamed, with the same text', async () => {
      const [streamed, { res }] = await fromSameNode(
        async () => ({
          text: (await collect(await client().chat({ model: CHAT_MODEL, messages, stream: true })))
            .map((p) => p.message.content)
            .join(''),
        }),
        async () => {
          const res = await client().chat({ model: CHAT_MODEL, messages }); // stream defaults to false in ollama-js
          return { text: res.message.content, res };
        },
      );
      assert.equal(res.done, true);
      assert.equal(res.done_reason, 'stop');
      assert.equal(res.model, CHAT_MODEL);
      assert.equal(res.message.role, 'assistant');
      nodeOf(res.message.content);
      assert.equal(res.message.content, streamed.text, 'same prompt, same node, same reply (deterministic sim)');
      assert.ok(res.eval_count > 0);
      assert.ok(res.prompt_eval_count > 0);
    });

    test('stops at num_predict with done_reason "length"', async () => {
      const res = await client().chat({ model: CHAT_MODEL, messages, options: { num_predict: 3 } });
      assert.equal(res.done_reason, 'length');
      assert.equal(res.eval_count, 3);
      nodeOf(res.message.content);
    });
  });

  describe('generate', () => {
    const prompt = 'Write a haiku about GPUs';

    test('streams several chunks that add up to the reply, ending with done', async () => {
      const parts = await collect(await client().generate({ model: CHAT_MODEL, prompt, stream: true }));
      const last = parts.at(-1);
      const content = parts.slice(0, -1);
      assert.ok(content.length >= 2, `only ${content.length} content chunks`);
      for (const p of content) {
        assert.equal(p.done, false);
        assert.equal(typeof p.response, 'string');
      }
      nodeOf(parts.map((p) => p.response).join(''));
      assert.equal(last.done, true);
      assert.equal(last.done_reason, 'stop');
      assert.equal(last.eval_count, content.length);
      assert.ok(Array.isArray(last.context) && last.context.length > 0, 'generate returns a context');
    });

    test('answers in one object when not streamed, with the same text', async () => {
      const [streamed, { res }] = await fromSameNode(
        async () => ({
          text: (await collect(await client().generate({ model: CHAT_MODEL, prompt, stream: true })))
            .map((p) => p.response)
            .join(''),
        }),
        async () => {
          const res = await client().generate({ model: CHAT_MODEL, prompt, stream: false });
          return { text: res.response, res };
        },
      );
      assert.equal(res.done, true);
      assert.equal(res.done_reason, 'stop');
      assert.equal(res.response, streamed.text);
      assert.ok(res.eval_count > 0);
      assert.ok(res.total_duration > 0);
      assert.ok(Array.isArray(res.context) && res.context.length > 0);
    });

    test('a different prompt gives a different reply', async () => {
      const a = await client().generate({ model: CHAT_MODEL, prompt: 'first prompt' });
      const b = await client().generate({ model: CHAT_MODEL, prompt: 'an entirely different prompt' });
      nodeOf(a.response);
      nodeOf(b.response);
      assert.notEqual(a.response, b.response);
    });
  });

  describe('models', () => {
    test('list shows the --model models with size, digest and details', async () => {
      const { models } = await client().list();
      const byName = new Map(models.map((m) => [m.name, m]));
      assert.equal(byName.size, models.length, `one entry per name: ${models.map((m) => m.name).join(', ')}`);
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

    test('ps shows a model resident after a generate, and it unloads with keep_alive 0', async () => {
      const ollama = client();
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

      await target().awaitModel(SMALL_MODEL, 'resident');
      const again = await ollama.generate({ model: SMALL_MODEL, prompt: '', keep_alive: 0 });
      assert.equal(again.done_reason, 'unload');
      assert.ok(!(await ollama.ps()).models.some((x) => x.name === SMALL_MODEL), 'unloaded');

      const load = await ollama.generate({ model: SMALL_MODEL, prompt: '' });
      assert.equal(load.done, true);
      assert.equal(load.done_reason, 'load');
      assert.ok((await ollama.ps()).models.some((x) => x.name === SMALL_MODEL), 'loaded by an empty prompt');
    });

    test('show gives details, model_info and capabilities', async () => {
      const ollama = client();
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

    test('pull streams progress ending in "success", then list has the model', async () => {
      const ollama = client();
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

      await target().awaitModel(name, 'listed');
      assert.ok((await listNames()).includes(name), 'pulled model listed');
      const res = await ollama.generate({ model: name, prompt: 'hi' });
      nodeOf(res.response); // the pulled model answers

      const again = await ollama.pull({ model: 'smollm:135m' }); // not streamed
      assert.equal(again.status, 'success');
      await target().awaitModel('smollm:135m', 'listed');
      assert.ok((await listNames()).includes('smollm:135m'));
    });

    test('copy adds a model, delete removes it', async () => {
      const ollama = client();
      const dest = 'my-copy:v1';
      assert.ok(!(await listNames()).includes(dest));
      assert.deepEqual(await ollama.copy({ source: CHAT_MODEL, destination: dest }), { status: 'success' });
      await target().awaitModel(dest, 'listed');
      const { models } = await ollama.list();
      const src = models.find((m) => m.name === CHAT_MODEL);
      const copy = models.find((m) => m.name === dest);
      assert.ok(copy, 'copy listed');
      assert.equal(copy.digest, src.digest);
      assert.equal(copy.size, src.size);
      nodeOf((await ollama.generate({ model: dest, prompt: 'hi' })).response);

      assert.deepEqual(await ollama.delete({ model: dest }), { status: 'success' });
      await target().awaitModel(dest, 'gone');
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

    test('embed returns one vector per input, of equal length, similar texts closer', async () => {
      const ollama = client();
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

    test('legacy embeddings returns one vector matching embed', async () => {
      const ollama = client();
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
    test('an unknown model is a 404 ResponseError saying "not found"', async () => {
      const ollama = client();
      const messages = [{ role: 'user', content: 'hi' }];
      await assertResponseError(ollama.chat({ model: 'no-such-model', messages }), 404, /not found/);
      await assertResponseError(ollama.chat({ model: 'no-such-model', messages, stream: true }), 404, /not found/);
      await assertResponseError(ollama.generate({ model: 'no-such-model', prompt: 'hi' }), 404, /not found/);
      await assertResponseError(ollama.generate({ model: 'no-such-model', prompt: 'hi', stream: true }), 404, /not found/);
      await assertResponseError(ollama.embed({ model: 'no-such-model', input: 'hi' }), 404, /not found/);
    });

    test('a missing model is a 400 "model is required"', async () => {
      const ollama = client();
      await assertResponseError(ollama.generate({ model: '', prompt: 'hi' }), 400, /model is required/);
      await assertResponseError(ollama.chat({ model: '', messages: [] }), 400, /model is required/);
    });

    test('an embedding model refuses generate with a 400', async () => {
      await assertResponseError(client().generate({ model: EMBED_MODEL, prompt: 'hi' }), 400, /does not support generate/);
    });
  });

  describe('abort', () => {
    test('aborting a streamed chat mid-stream cancels it on the node', async () => {
      const before = await statsByName();
      const stream = await client().chat({
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
      const node = nodeOf(got[0].message.content);
      assert.equal(got[0].message.content, `${node}:`, 'scripted reply');

      // The node that was serving saw the cancellation, and nothing is left running anywhere.
      const stats = await waitFor(async () => {
        const now = await statsByName();
        const s = now.get(node);
        return s.cancelled >= before.get(node).cancelled + 1 && sum([...now.values()], (x) => x.active) === 0 ? s : null;
      }, { timeoutMs: 5_000, what: `cancelled to rise on /_sim/stats of ${node}` });
      assert.ok(stats.cancelled >= 1);
    });

    test('client.abort() cancels every ongoing stream', async () => {
      const ollama = client();
      const before = await statsByName();
      const start = () => ollama.generate({ model: CHAT_MODEL, prompt: `${LONG_PROMPT}, please`, stream: true });
      const streams = [await start(), await start()];
      // Read one chunk from each so both generations are running on a node.
      const iterators = streams.map((s) => s[Symbol.asyncIterator]());
      const servedBy = new Map(); // node name -> how many of the streams it serves
      for (const it of iterators) {
        const first = await it.next();
        assert.equal(first.done, false);
        const node = nodeOf(first.value.response);
        assert.equal(first.value.response, `${node}:`);
        servedBy.set(node, (servedBy.get(node) ?? 0) + 1);
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
      await waitFor(async () => {
        const now = await statsByName();
        return [...servedBy].every(([node, n]) => now.get(node).cancelled >= before.get(node).cancelled + n);
      }, {
        timeoutMs: 5_000,
        what: `two more cancellations on /_sim/stats (${[...servedBy].map(([k, v]) => `${v} on ${k}`).join(', ')})`,
      });
      const now = await statsByName();
      assert.equal(sum([...now.values()], (s) => s.active), 0);
      assert.ok(sum([...now.values()], (s) => s.requests_by_path['/api/generate']) >= 2);
      for (const [node, n] of servedBy) assert.ok(now.get(node).requests_by_path['/api/generate'] >= n, node);
    });

    test('the node still serves after the cancellations', async () => {
      const res = await client().chat({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'still there?' }] });
      const node = nodeOf(res.message.content);
      const stats = (await statsByName()).get(node);
      assert.equal(stats.name, node);
      assert.ok(stats.completed >= 1);
      assert.ok(stats.generations >= stats.completed + stats.cancelled);
    });
  });
}
