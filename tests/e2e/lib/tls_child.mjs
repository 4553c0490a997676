// Run by tls_client.test.mjs as a separate `node` process, so that NODE_EXTRA_CA_CERTS (read
// once, at start-up) can make the test CA trusted: the official `ollama` and `openai` clients
// call the HTTPS gateway as any application would, and the results go to stdout as one JSON line.
//
//   NODE_EXTRA_CA_CERTS=ca.pem node lib/tls_child.mjs https://127.0.0.1:PORT MODEL
import { Ollama } from 'ollama';
import OpenAI from 'openai';

const [url, model] = process.argv.slice(2);
const out = {};
try {
  const ollama = new Ollama({ host: url });
  out.version = (await ollama.version()).version;
  out.tags = (await ollama.list()).models.map((m) => m.name);
  let streamed = '';
  let chunks = 0;
  let done = false;
  for await (const part of await ollama.chat({ model, messages: [{ role: 'user', content: 'hello' }], stream: true })) {
    streamed += part.message?.content ?? '';
    chunks += 1;
    done = part.done;
  }
  out.chat = { text: streamed, chunks, done };
  out.generate = (await ollama.generate({ model, prompt: 'hi', stream: false })).response;

  const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 10_000 });
  const completion = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });
  out.openai = completion.choices[0].message.content;
  let events = 0;
  let text = '';
  const stream = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }], stream: true });
  for await (const event of stream) {
    events += 1;
    text += event.choices[0]?.delta?.content ?? '';
  }
  out.openaiStream = { events, text };
} catch (err) {
  out.error = `${err?.name}: ${err?.message} (${err?.cause?.code ?? err?.cause?.message ?? ''})`;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
