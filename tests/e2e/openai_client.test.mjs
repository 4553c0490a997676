// End-to-end: the official `openai` npm client (and LangChain's ChatOpenAI on the Responses
// API) against the gateway's OpenAI API (`hydra serve`, base URL <gateway>/v1) in front of two `hydra sim` nodes that hold the same models, plus a
// second gateway in front of one sim for the failure cases (with two nodes the gateway would
// fail over instead of failing).
// Every reply of a sim starts with "NAME:" of the node that served it.
// Run: cd tests/e2e && npm install && node --test openai_client.test.mjs   (HYDRA_BIN overrides the binary)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatOpenAI } from '@langchain/openai';
import OpenAI, { APIError, BadRequestError, NotFoundError } from 'openai';

import { CHAT_MODEL, EMBED_MODEL, SMALL_MODEL, TOOL_CALL, TOOL_PROMPT, clientSimArgs } from './lib/client_suite.mjs';
import { startGateway } from './lib/gateway.mjs';
import { startSim } from './lib/sim.mjs';

const NODES = ['alpha', 'beta'];
const T = { timeout: 15_000 };
const NODE_PREFIX = new RegExp(`^(${NODES.join('|')}):`);

let scratch;
let sims = []; // [{ name, url, sim }]
let gateway;

// The client as an application would make it; no retries, so a failure shows as it happened.
function client(url = gateway.url) {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 10_000 });
}

function logs() {
  const parts = [`hydra serve stderr:\n${gateway?.stderr() ?? '(not started)'}`];
  for (const s of sims) parts.push(`hydra sim ${s.name} (${s.url}) stderr:\n${s.sim.stderr() || '(empty)'}`);
  return parts.join('\n');
}

// `it` that prints the gateway's and sims' logs when the test fails.
function test(name, fn, { logsOf = logs } = {}) {
  it(name, T, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      console.error(`--- "${name}" failed ---\n${logsOf()}\n--- end of logs ---`);
      throw err;
    }
  });
}

// Resolves to the error `promise` rejects with (failing if it resolves).
async function rejection(promise) {
  try {
    const value = await promise;
    assert.fail(`expected an error, got ${JSON.stringify(value)?.slice(0, 500)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return err;
  }
}

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

const WEATHER_PARAMETERS = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const WEATHER_TOOL_CHAT = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather for a city', parameters: WEATHER_PARAMETERS },
};
// The Responses API's flat function tool.
const WEATHER_TOOL = { type: 'function', name: 'get_weather', description: 'Current weather for a city', parameters: WEATHER_PARAMETERS, strict: false };

// The events of a streamed response: their types in order, numbered from 0 without gaps.
function checkSequence(events) {
  events.forEach((e, i) => assert.equal(e.sequence_number, i, `event ${i} (${e.type})`));
  assert.equal(events[0].type, 'response.created');
  assert.equal(events[1].type, 'response.in_progress');
  return events.map((e) => e.type);
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'hydra-e2e-openai-'));
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
});

after(async () => {
  if (gateway) await gateway.stop();
  await Promise.all(sims.map((s) => s.sim.stop()));
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('chat completions', () => {
  test('not streamed: a chat.completion with the node\'s text and usage', async () => {
    const res = await client().chat.completions.create({
      model: CHAT_MODEL,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'hello there' },
      ],
    });
    assert.equal(res.object, 'chat.completion');
    assert.match(res.id, /^chatcmpl-/);
    assert.equal(res.model, CHAT_MODEL);
    assert.ok(Number.isInteger(res.created) && Math.abs(res.created - Date.now() / 1000) < 300, `created ${res.created}`);
    assert.equal(res.choices.length, 1);
    const [choice] = res.choices;
    assert.equal(choice.index, 0);
    assert.equal(choice.message.role, 'assistant');
    assert.match(choice.message.content, NODE_PREFIX);
    assert.equal(choice.finish_reason, 'stop');
    assert.ok(res.usage.prompt_tokens > 0, JSON.stringify(res.usage));
    assert.ok(res.usage.completion_tokens > 0, JSON.stringify(res.usage));
    assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);
  });

  test('max_tokens cuts the reply: finish_reason "length"', async () => {
    const res = await client().chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: 'say a lot' }],
      max_tokens: 2,
      temperature: 0.1,
      stop: ['never-appears'],
      seed: 1,
    });
    assert.equal(res.choices[0].finish_reason, 'length');
    assert.equal(res.usage.completion_tokens, 2);
  });

  test('streamed with include_usage: role first, deltas, finish, then usage', async () => {
    const stream = await client().chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: 'stream to me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    assert.ok(chunks.length >= 4, `${chunks.length} chunks`);
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.id, chunks[0].id, 'one id for the whole stream');
      assert.equal(c.model, CHAT_MODEL);
    }
    assert.match(chunks[0].id, /^chatcmpl-/);
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, []);
    assert.ok(usageChunk.usage.completion_tokens > 0, JSON.stringify(usageChunk.usage));
    assert.equal(usageChunk.usage.total_tokens, usageChunk.usage.prompt_tokens + usageChunk.usage.completion_tokens);
    const body = chunks.slice(0, -1);
    for (const c of body) assert.equal(c.usage, null, 'usage is null before the usage chunk');
    assert.equal(body.at(-1).choices[0].finish_reason, 'stop');
    for (const c of body.slice(0, -1)) assert.equal(c.choices[0].finish_reason, null);
    const text = body.map((c) => c.choices[0].delta.content ?? '').join('');
    assert.match(text, NODE_PREFIX);
    // One delta per token the node sent.
    assert.equal(body.filter((c) => c.choices[0].delta.content).length, usageChunk.usage.completion_tokens);
  });

  test('streamed without include_usage: no usage chunk', async () => {
    const stream = await client().chat.completions.create({
      model: SMALL_MODEL,
      messages: [{ role: 'user', content: 'short' }],
      stream: true,
    });
    const chunks = await collect(stream);
    for (const c of chunks) {
      assert.equal(c.choices.length, 1);
      assert.equal(c.usage ?? null, null);
    }
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  test('the client\'s stream helper assembles the final message', async () => {
    const runner = client().chat.completions.stream({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: 'helper' }],
    });
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].message.role, 'assistant');
    assert.match(final.choices[0].message.content, NODE_PREFIX);
    assert.equal(final.choices[0].finish_reason, 'stop');
  });

  test('content parts, images, tools and a tool-call history reach the node', async () => {
    const pixel = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const res = await client().chat.completions.create({
      model: CHAT_MODEL,
      messages: [
        { role: 'developer', content: 'Use the tools.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is the weather where this was taken?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${pixel}` } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18 degrees' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
    });
    assert.match(res.choices[0].message.content, NODE_PREFIX);
  });
  test('a node\'s tool call comes back as tool_calls, streamed and not', async () => {
    const body = { model: CHAT_MODEL, messages: [{ role: 'user', content: TOOL_PROMPT }], tools: [WEATHER_TOOL_CHAT] };
    const res = await client().chat.completions.create(body);
    const [choice] = res.choices;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls.length, 1);
    assert.equal(choice.message.tool_calls[0].function.name, TOOL_CALL.name);
    assert.deepEqual(JSON.parse(choice.message.tool_calls[0].function.arguments), TOOL_CALL.arguments);
    const final = await client().chat.completions.stream(body).finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(JSON.parse(final.choices[0].message.tool_calls[0].function.arguments), TOOL_CALL.arguments);
  });
});

describe('completions', () => {
  test('not streamed: a text_completion', async () => {
    const res = await client().completions.create({ model: CHAT_MODEL, prompt: 'Once upon a time', max_tokens: 50 });
    assert.equal(res.object, 'text_completion');
    assert.match(res.id, /^cmpl-/);
    assert.equal(res.model, CHAT_MODEL);
    assert.equal(res.choices.length, 1);
    assert.match(res.choices[0].text, NODE_PREFIX);
    assert.ok(['stop', 'length'].includes(res.choices[0].finish_reason), res.choices[0].finish_reason);
    assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);
  });

  test('streamed with include_usage', async () => {
    const stream = await client().completions.create({
      model: CHAT_MODEL,
      prompt: ['def fib(n):'],
      suffix: '    return a',
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    for (const c of chunks) {
      assert.equal(c.object, 'text_completion');
      assert.equal(c.id, chunks[0].id);
    }
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, []);
    assert.ok(usageChunk.usage.completion_tokens > 0);
    const body = chunks.slice(0, -1);
    assert.equal(body.at(-1).choices[0].finish_reason, 'stop');
    assert.match(body.map((c) => c.choices[0].text).join(''), NODE_PREFIX);
  });
});

describe('embeddings', () => {
  test('default (base64 on the wire, decoded by the client) equals encoding_format "float"', async () => {
    const input = ['the quick brown fox', 'jumps over the lazy dog'];
    // The client asks for base64 unless told otherwise, and decodes it to numbers.
    const packed = await client().embeddings.create({ model: EMBED_MODEL, input });
    const plain = await client().embeddings.create({ model: EMBED_MODEL, input, encoding_format: 'float' });
    for (const res of [packed, plain]) {
      assert.equal(res.object, 'list');
      assert.equal(res.model, EMBED_MODEL);
      assert.deepEqual(res.data.map((d) => [d.object, d.index]), [['embedding', 0], ['embedding', 1]]);
      assert.ok(res.usage.prompt_tokens > 0);
      assert.equal(res.usage.total_tokens, res.usage.prompt_tokens);
    }
    for (let i = 0; i < input.length; i++) {
      const a = packed.data[i].embedding;
      const b = plain.data[i].embedding;
      assert.ok(Array.isArray(a) && a.length > 0, `decoded embedding ${i}`);
      assert.equal(a.length, b.length);
      // base64 carries float32: equal to the float list within float32 precision.
      for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k] - b[k]) < 1e-6, `[${i}][${k}] ${a[k]} vs ${b[k]}`);
      assert.ok(Math.abs(norm(b) - 1) < 1e-3, `the sim's embeddings are normalised: ${norm(b)}`);
    }
  });

  test('a single string; base64 asked for explicitly stays a string', async () => {
    const res = await client().embeddings.create({ model: EMBED_MODEL, input: 'hello', encoding_format: 'base64' });
    assert.equal(res.data.length, 1);
    const b64 = res.data[0].embedding;
    assert.equal(typeof b64, 'string');
    // Copied out of Node's shared buffer pool, whose offsets need not be 4-aligned.
    const floats = new Float32Array(Uint8Array.from(Buffer.from(b64, 'base64')).buffer);
    assert.ok(floats.length > 0 && Math.abs(norm([...floats]) - 1) < 1e-3);
  });

  test('token-id input is a 400 naming input', async () => {
    const err = await rejection(client().embeddings.create({ model: EMBED_MODEL, input: [101, 102], encoding_format: 'float' }));
    assert.ok(err instanceof BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.param, 'input');
  });
});

describe('models', () => {
  test('list: every model of the fleet once', async () => {
    const ids = [];
    for await (const m of client().models.list()) {
      assert.equal(m.object, 'model');
      assert.equal(typeof m.created, 'number');
      assert.equal(m.owned_by, 'library');
      ids.push(m.id);
    }
    assert.equal(new Set(ids).size, ids.length, `no duplicates in ${ids.join(', ')}`);
    for (const name of [CHAT_MODEL, SMALL_MODEL, EMBED_MODEL]) assert.ok(ids.includes(name), `${name} in ${ids.join(', ')}`);
  });

  test('retrieve one; an unknown one is a 404', async () => {
    const m = await client().models.retrieve(CHAT_MODEL);
    assert.equal(m.id, CHAT_MODEL);
    assert.equal(m.object, 'model');
    const err = await rejection(client().models.retrieve('no-such-model:1b'));
    assert.ok(err instanceof NotFoundError, String(err));
    assert.equal(err.status, 404);
  });
});

describe('responses', () => {
  test('not streamed: a response with one message, its text and usage', async () => {
    const res = await client().responses.create({ model: CHAT_MODEL, input: 'hello there', instructions: 'You are terse.' });
    assert.equal(res.object, 'response');
    assert.match(res.id, /^resp_/);
    assert.equal(res.status, 'completed');
    assert.equal(res.model, CHAT_MODEL);
    assert.equal(res.instructions, 'You are terse.');
    assert.equal(res.error, null);
    assert.equal(res.store, false);
    assert.ok(Number.isInteger(res.created_at) && Math.abs(res.created_at - Date.now() / 1000) < 300);
    assert.equal(res.output.length, 1);
    const [msg] = res.output;
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.status, 'completed');
    assert.match(msg.id, /^msg_/);
    assert.equal(msg.content.length, 1);
    assert.equal(msg.content[0].type, 'output_text');
    assert.deepEqual(msg.content[0].annotations, []);
    // The client's own convenience field, made from the output items.
    assert.match(res.output_text, NODE_PREFIX);
    assert.equal(res.output_text, msg.content[0].text);
    assert.ok(res.usage.input_tokens > 0 && res.usage.output_tokens > 0, JSON.stringify(res.usage));
    assert.equal(res.usage.total_tokens, res.usage.input_tokens + res.usage.output_tokens);
  });

  test('a message list and max_output_tokens: cut short, status "incomplete"', async () => {
    const res = await client().responses.create({
      model: CHAT_MODEL,
      input: [
        { role: 'developer', content: 'Answer at length.' },
        { role: 'user', content: [{ type: 'input_text', text: 'say a lot' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Sure.' }] },
        { role: 'user', content: 'go on' },
      ],
      max_output_tokens: 2,
      temperature: 0.1,
      top_p: 0.5,
    });
    assert.equal(res.status, 'incomplete');
    assert.deepEqual(res.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(res.max_output_tokens, 2);
    assert.equal(res.temperature, 0.1);
    assert.equal(res.usage.output_tokens, 2);
  });

  test('streamed: the Responses events in order, deltas adding up to the final text', async () => {
    const stream = await client().responses.create({ model: CHAT_MODEL, input: 'stream to me', stream: true });
    const events = await collect(stream);
    const types = checkSequence(events);
    assert.deepEqual(types.slice(2, 4), ['response.output_item.added', 'response.content_part.added']);
    assert.deepEqual(types.slice(-4), [
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    assert.equal(deltas.length, types.length - 8, 'only deltas between the opening and closing events');
    const text = deltas.map((e) => e.delta).join('');
    assert.match(text, NODE_PREFIX);
    const { response } = events.at(-1);
    assert.equal(response.status, 'completed');
    assert.equal(response.id, events[0].response.id);
    assert.equal(response.output[0].content[0].text, text);
    assert.equal(events.at(-4).text, text);
    assert.equal(response.usage.output_tokens, deltas.length, 'one delta per token the node sent');
  });

  test('the client\'s stream helper assembles the final response', async () => {
    const stream = client().responses.stream({ model: SMALL_MODEL, input: 'helper' });
    let fromDeltas = '';
    stream.on('response.output_text.delta', (e) => { fromDeltas += e.delta; });
    const final = await stream.finalResponse();
    assert.equal(final.status, 'completed');
    assert.match(final.output_text, NODE_PREFIX);
    assert.equal(final.output_text, fromDeltas);
  });

  test('tools: a function_call, then its output sent back gets an answer in words', async () => {
    const first = await client().responses.create({ model: CHAT_MODEL, input: TOOL_PROMPT, tools: [WEATHER_TOOL] });
    assert.equal(first.status, 'completed');
    assert.deepEqual(first.tools.map((t) => t.name), ['get_weather']);
    const calls = first.output.filter((o) => o.type === 'function_call');
    assert.equal(calls.length, 1, JSON.stringify(first.output));
    const [call] = calls;
    assert.match(call.id, /^fc_/);
    assert.match(call.call_id, /^call_/);
    assert.equal(call.name, TOOL_CALL.name);
    assert.equal(call.status, 'completed');
    assert.deepEqual(JSON.parse(call.arguments), TOOL_CALL.arguments);
    // The conversation goes on statelessly: the call and its result go back as input items.
    const second = await client().responses.create({
      model: CHAT_MODEL,
      input: [
        { role: 'user', content: TOOL_PROMPT },
        ...first.output,
        { type: 'function_call_output', call_id: call.call_id, output: '18 degrees and sunny' },
      ],
      tools: [WEATHER_TOOL],
    });
    assert.equal(second.output.filter((o) => o.type === 'function_call').length, 0);
    assert.match(second.output_text, NODE_PREFIX);
  });

  test('tools, streamed: the call\'s item and argument events', async () => {
    const stream = await client().responses.create({ model: CHAT_MODEL, input: TOOL_PROMPT, tools: [WEATHER_TOOL], stream: true });
    const events = await collect(stream);
    const types = checkSequence(events);
    assert.deepEqual(types.slice(2), [
      'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.done',
      'response.output_item.done', 'response.completed',
    ]);
    const added = events[2];
    assert.equal(added.item.type, 'function_call');
    assert.equal(added.item.name, TOOL_CALL.name);
    assert.equal(added.output_index, 0);
    assert.deepEqual(JSON.parse(events[4].arguments), TOOL_CALL.arguments);
    const { response } = events.at(-1);
    assert.equal(response.output.length, 1);
    assert.equal(response.output[0].call_id, added.item.call_id);
    assert.deepEqual(JSON.parse(response.output[0].arguments), TOOL_CALL.arguments);
  });

  test('previous_response_id is a 400: Hydra keeps no responses', async () => {
    const err = await rejection(
      client().responses.create({ model: CHAT_MODEL, input: 'and then?', previous_response_id: 'resp_earlier' }),
    );
    assert.ok(err instanceof BadRequestError, String(err));
    assert.equal(err.param, 'previous_response_id');
    assert.match(err.message, /does not store responses/);
    const gone = await rejection(client().responses.retrieve('resp_earlier'));
    assert.ok(gone instanceof NotFoundError, String(gone));
  });

  test('an unknown model is a 404 with code model_not_found, streamed or not', async () => {
    for (const stream of [false, true]) {
      const err = await rejection(client().responses.create({ model: 'no-such-model', input: 'hi', stream }));
      assert.ok(err instanceof NotFoundError, String(err));
      assert.equal(err.code, 'model_not_found');
    }
  });
});

describe('LangChain ChatOpenAI with useResponsesApi', () => {
  const chat = (fields = {}) =>
    new ChatOpenAI({
      model: CHAT_MODEL,
      apiKey: 'unused',
      configuration: { baseURL: `${gateway.url}/v1` },
      useResponsesApi: true,
      maxRetries: 0,
      ...fields,
    });

  test('invoke, stream and a tool call', async () => {
    const reply = await chat().invoke([['system', 'You are terse.'], ['human', 'hello there']]);
    assert.match(reply.text, NODE_PREFIX);
    assert.match(reply.id ?? reply.response_metadata?.id ?? '', /^(resp_|msg_)/, JSON.stringify(reply.response_metadata));
    assert.ok(reply.usage_metadata?.output_tokens > 0, JSON.stringify(reply.usage_metadata));

    let streamed = '';
    for await (const chunk of await chat({ streaming: true }).stream('stream to me')) streamed += chunk.text;
    assert.match(streamed, NODE_PREFIX);

    const withTools = chat().bindTools([WEATHER_TOOL_CHAT]);
    const call = await withTools.invoke(TOOL_PROMPT);
    assert.equal(call.tool_calls.length, 1, JSON.stringify(call));
    assert.equal(call.tool_calls[0].name, TOOL_CALL.name);
    assert.deepEqual(call.tool_calls[0].args, TOOL_CALL.arguments);
    assert.match(call.tool_calls[0].id, /^call_/);
  });
});

describe('unknown /v1 routes', () => {
  test('a 404 (or 405) in OpenAI\'s error shape', async () => {
    for (const [method, path, status] of [['POST', '/v1/assistants', 404], ['GET', '/v1/nothing/here', 404], ['GET', '/v1/responses', 405]]) {
      const res = await fetch(`${gateway.url}${path}`, { method, signal: AbortSignal.timeout(5_000) });
      assert.equal(res.status, status, `${method} ${path}`);
      assert.match(res.headers.get('content-type'), /^application\/json/);
      const body = await res.json();
      assert.equal(body.error.type, 'invalid_request_error');
      assert.ok(body.error.message.includes(`${method} ${path}`), body.error.message);
    }
    // Outside /v1/ the gateway answers as Ollama does.
    const plain = await fetch(`${gateway.url}/api/nothing`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(plain.status, 404);
    assert.equal(await plain.text(), '404 page not found');
  });
});

describe('errors', () => {
  test('an unknown model is a 404 APIError with code model_not_found', async () => {
    for (const call of [
      () => client().chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
      () => client().chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      () => client().completions.create({ model: 'no-such-model', prompt: 'hi' }),
      () => client().embeddings.create({ model: 'no-such-model', input: 'hi' }),
    ]) {
      const err = await rejection(call());
      assert.ok(err instanceof APIError, String(err));
      assert.ok(err instanceof NotFoundError, String(err));
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      assert.match(err.message, /no-such-model/);
    }
  });

  test('bad input is a 400 naming the param', async () => {
    const cases = [
      [{ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' }, 'temperature'],
      [{ model: CHAT_MODEL, messages: [] }, 'messages'],
      [{ messages: [{ role: 'user', content: 'hi' }] }, 'model'],
      [{ model: CHAT_MODEL, messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
      [{ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }], stop: 5 }, 'stop'],
    ];
    for (const [body, param] of cases) {
      const err = await rejection(client().chat.completions.create(body));
      assert.ok(err instanceof BadRequestError, `${JSON.stringify(body)}: ${err}`);
      assert.equal(err.status, 400);
      assert.equal(err.type, 'invalid_request_error');
      assert.equal(err.param, param, JSON.stringify(body));
    }
  });
});

describe('failures on a single node', () => {
  let sim;
  let gw;
  const soloLogs = () => `hydra serve stderr:\n${gw?.stderr()}\nhydra sim stderr:\n${sim?.sim.stderr()}`;

  before(async () => {
    const s = await startSim({ args: await clientSimArgs('solo', scratch) });
    sim = { name: 'solo', url: s.url, sim: s };
    gw = await startGateway({ nodes: [sim.url] });
  });

  after(async () => {
    if (gw) await gw.stop();
    if (sim) await sim.sim.stop();
  });

  async function fault(body) {
    const res = await fetch(`${sim.url}/_sim/fault`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(res.status, 200, await res.text());
  }

  test('a node that fails before answering: the error arrives as an APIError with its status', async () => {
    await fault({ mode: 'error500', count: 1, status: 503, message: 'server busy, please try again.  maximum pending requests exceeded' });
    const err = await rejection(
      client(gw.url).chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    );
    assert.ok(err instanceof APIError, String(err));
    assert.ok(err.status >= 500, `status ${err.status}`);
  }, { logsOf: soloLogs });

  test('a node that dies mid-stream: the stream ends with an error, the client throws', async () => {
    await fault({ mode: 'cut', count: 1, after_chunks: 2 });
    const stream = await client(gw.url).chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: 'cut me off' }],
      stream: true,
    });
    const seen = [];
    let err = null;
    try {
      for await (const c of stream) seen.push(c);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof APIError, `${err} after ${JSON.stringify(seen)}`);
    assert.ok(seen.length >= 1, 'some chunks arrived before the error');
    assert.ok(!seen.some((c) => c.choices[0]?.finish_reason), 'no finish_reason before the error');
  }, { logsOf: soloLogs });

  test('a node that dies mid-stream of a response: response.failed, then the client throws', async () => {
    await fault({ mode: 'cut', count: 1, after_chunks: 2 });
    const stream = await client(gw.url).responses.create({ model: CHAT_MODEL, input: 'cut me off', stream: true });
    const seen = [];
    let err = null;
    try {
      for await (const e of stream) seen.push(e);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof APIError, `${err} after ${JSON.stringify(seen.map((e) => e.type))}`);
    assert.ok(seen.some((e) => e.type === 'response.output_text.delta'), 'some text arrived before the error');
    assert.equal(seen.at(-1).type, 'response.failed');
    assert.equal(seen.at(-1).response.status, 'failed');
    assert.ok(!seen.some((e) => e.type === 'response.completed'));
  }, { logsOf: soloLogs });
});
