// End-to-end: API keys (issue #15) with the official `ollama` and `openai` npm clients against
// `hydra serve` in front of one `hydra sim`: without a key 401, with it the calls pass; a key
// limited to one model gets 403 for others; `rpm` gives 429 with an honest Retry-After;
// `max_concurrent` holds; a non-admin key cannot pull, delete or register; SIGHUP adds and
// revokes a key while a stream is in flight.
// Run: cd tests/e2e && node --test auth.test.mjs   (HYDRA_BIN overrides the binary)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import OpenAI, { AuthenticationError, PermissionDeniedError, RateLimitError } from 'openai';

import { startGateway } from './lib/gateway.mjs';
import { startSim, waitFor } from './lib/sim.mjs';

const T = { timeout: 30_000 };
const USER = 'hyd_user-key-for-tests';
const ADMIN = 'hyd_admin-key-for-tests';
const NARROW = 'hyd_narrow-key-for-tests';
const LATE = 'hyd_late-key-for-tests';

const sha = (s) => createHash('sha256').update(s).digest('hex');
const entry = (name, secret, extra = '') => `[[keys]]\nname = "${name}"\nsha256 = "${sha(secret)}"\n${extra}\n`;

let scratch;
let keysFile;
let sim;
let gateway;

const ollama = (key) => new Ollama({ host: gateway.url, headers: key ? { Authorization: `Bearer ${key}` } : {} });
const openai = (key) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key ?? 'none', maxRetries: 0, timeout: 10_000 });

async function rejection(promise) {
  try {
    const value = await promise;
    assert.fail(`expected an error, got ${JSON.stringify(value)?.slice(0, 300)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return err;
  }
}

describe('API keys with the official clients', () => {
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'hydra-e2e-auth-'));
    keysFile = join(scratch, 'keys.toml');
    await writeFile(keysFile, entry('team', USER, 'max_concurrent = 1') + entry('ops', ADMIN, 'admin = true') +
      entry('narrow', NARROW, 'models = ["small:*"]\nrpm = 3'));
    sim = await startSim({ args: ['--name', 'n1', '--model', 'small:1b=1', '--model', 'big:7b=4', '--load-seconds', '0',
      '--tokens-per-second', '60'] });
    gateway = await startGateway({ nodes: [sim.url], env: { HYDRA_API_KEYS_FILE: keysFile } });
  });
  after(async () => {
    await gateway?.stop();
    await sim?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('refuses calls without a key (401) and passes them with one', T, async () => {
    const noKey = await rejection(ollama().generate({ model: 'small:1b', prompt: 'hi' }));
    assert.equal(noKey.status_code, 401, String(noKey));
    const wrong = await rejection(openai('nope').chat.completions.create({ model: 'small:1b', messages: [{ role: 'user', content: 'hi' }] }));
    assert.ok(wrong instanceof AuthenticationError, String(wrong));
    assert.equal(wrong.code, 'invalid_api_key');

    const reply = await ollama(USER).chat({ model: 'small:1b', messages: [{ role: 'user', content: 'hi' }] });
    assert.match(reply.message.content, /^n1:/);
    const completion = await openai(USER).chat.completions.create({ model: 'small:1b', messages: [{ role: 'user', content: 'hi' }] });
    assert.match(completion.choices[0].message.content, /^n1:/);
    const stream = await openai(USER).chat.completions.create({ model: 'small:1b', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.match(text, /^n1:/);
  });

  it('gives a key limited to one model 403 for the others', T, async () => {
    const err = await rejection(openai(NARROW).chat.completions.create({ model: 'big:7b', messages: [{ role: 'user', content: 'x' }] }));
    assert.ok(err instanceof PermissionDeniedError, String(err));
    const viaOllama = await rejection(ollama(NARROW).generate({ model: 'big:7b', prompt: 'x' }));
    assert.equal(viaOllama.status_code, 403);
    assert.match(viaOllama.error, /may not use model "big:7b"/);
  });

  it('answers 429 with an honest Retry-After once rpm is reached', T, async () => {
    const started = Date.now();
    for (let i = 0; i < 3; i++) {
      const { response } = await openai(NARROW).chat.completions
        .create({ model: 'small:1b', messages: [{ role: 'user', content: `n${i}` }] })
        .withResponse();
      assert.equal(response.headers.get('x-ratelimit-remaining-requests'), String(2 - i));
    }
    const err = await rejection(openai(NARROW).chat.completions.create({ model: 'small:1b', messages: [{ role: 'user', content: 'x' }] }));
    assert.ok(err instanceof RateLimitError, String(err));
    const retry = Number(err.headers.get('retry-after'));
    const elapsed = (Date.now() - started) / 1000;
    assert.ok(retry >= 60 - elapsed - 1 && retry <= 60, `Retry-After ${retry} after ${elapsed} s`);
    assert.equal(err.headers.get('x-ratelimit-limit-requests'), '3');
  });

  it('holds max_concurrent', T, async () => {
    const first = await ollama(USER).generate({ model: 'small:1b', prompt: 'long', stream: true, options: { num_predict: 60 } });
    const it1 = first[Symbol.asyncIterator]();
    await it1.next(); // the first stream has begun
    const second = await rejection(ollama(USER).generate({ model: 'small:1b', prompt: 'x' }));
    assert.equal(second.status_code, 429);
    for (let r = await it1.next(); !r.done; r = await it1.next()) { /* drain */ }
    const again = await ollama(USER).generate({ model: 'small:1b', prompt: 'x' });
    assert.match(again.response, /^n1:/);
  });

  it('keeps pulling, deleting and registering for admin keys', T, async () => {
    for (const call of [
      () => ollama(USER).pull({ model: 'small:1b' }),
      () => ollama(USER).delete({ model: 'small:1b' }),
      () => ollama(USER).copy({ source: 'small:1b', destination: 'copy:1b' }),
    ]) {
      const err = await rejection(call());
      assert.equal(err.status_code, 403, String(err));
    }
    const reg = await fetch(`${gateway.url}/nodes/register`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${USER}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: sim.url }),
    });
    assert.equal(reg.status, 403);
    const pulled = await ollama(ADMIN).pull({ model: 'small:1b' });
    assert.equal(pulled.status, 'success');
  });

  it('adds and revokes keys on SIGHUP without dropping a stream in flight', T, async () => {
    const stream = await ollama(ADMIN).generate({ model: 'small:1b', prompt: 'a long answer', stream: true, options: { num_predict: 80 } });
    const pieces = stream[Symbol.asyncIterator]();
    const firstPiece = await pieces.next();
    assert.equal(firstPiece.done, false);
    // USER is revoked, LATE is new; ADMIN stays (its stream goes on either way).
    await writeFile(keysFile, entry('ops', ADMIN, 'admin = true') + entry('late', LATE));
    gateway.child.kill('SIGHUP');
    await waitFor(async () => {
      try {
        await ollama(LATE).generate({ model: 'small:1b', prompt: 'x' });
        return true;
      } catch {
        return false;
      }
    }, { timeoutMs: 10_000, what: 'the new key to work' });
    const revoked = await rejection(ollama(USER).generate({ model: 'small:1b', prompt: 'x' }));
    assert.equal(revoked.status_code, 401);
    let last = firstPiece.value;
    for (let r = await pieces.next(); !r.done; r = await pieces.next()) last = r.value;
    assert.equal(last.done, true, 'the stream in flight ended normally');
  });
});
