// Server-Sent Events read from a fetch() body: EventSource cannot POST, and the playground's
// /generate/stream and /orchestrate streams are answers to POSTs.
import { authHeaders } from './auth.js';

/**
 * Splits an SSE byte stream into events. Feed text with push(); it calls onEvent(name, data)
 * for each complete event (data lines joined by "\n"; name "message" when absent).
 */
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = '';
    this.name = '';
    this.data = [];
  }

  push(text) {
    this.buffer += text;
    let nl;
    while ((nl = this.buffer.search(/\r\n|\n|\r/)) >= 0) {
      const sep = this.buffer[nl] === '\r' && this.buffer[nl + 1] === '\n' ? 2 : 1;
      // A lone "\r" at the end may be the first half of "\r\n": wait for more.
      if (this.buffer[nl] === '\r' && nl + 1 === this.buffer.length) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + sep);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.data.length) this.onEvent(this.name || 'message', this.data.join('\n'));
      this.name = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.name = value;
    else if (field === 'data') this.data.push(value);
  }
}

/**
 * POSTs `body` as JSON to `url` and calls onEvent(name, parsedData) for each event of the
 * text/event-stream reply. A non-200 reply rejects with the server's {"error": ...} message.
 * Resolves when the stream ends; abort with `signal`.
 */
export async function postEventStream(url, body, onEvent, { signal } = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...authHeaders() },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) {
    const text = await res.text();
    let message = `HTTP ${res.status}`;
    try {
      const error = JSON.parse(text).error;
      message = error?.message ?? error ?? message;
    } catch {
      if (text) message = `${message}: ${text.slice(0, 200)}`;
    }
    const err = new Error(message);
    err.status = res.status;
    throw err;
  }
  const parser = new SseParser((name, data) => {
    let parsed = data;
    try {
      parsed = JSON.parse(data);
    } catch {
      // not JSON: hand over the text
    }
    onEvent(name, parsed);
  });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.push(value);
  }
  parser.push('\n\n'); // a last event without its blank line still counts
}
