// The live feed: one EventSource on GET /events. The browser reconnects by itself after a
// dropped connection; when it gives up (readyState CLOSED, e.g. a reply that was not an event
// stream while the gateway restarted) we open a new one after a growing delay. Listeners learn
// of every (re)connection through onStatus so pages can re-fetch what they show.

const EVENTS = ['hello', 'history', 'nodes', 'traffic', 'routing', 'request', 'orchestration'];

export class LiveFeed {
  /** `url`: the stream's URL, or a function giving it (asked again at each new connection). */
  constructor(url = '/events') {
    this.url = url;
    this.handlers = new Map(EVENTS.map((name) => [name, []]));
    this.statusHandlers = [];
    this.source = null;
    this.retryMs = 1000;
    this.retryTimer = null;
    this.connections = 0; // successful opens so far; > 1 means a reconnection
  }

  on(name, fn) {
    this.handlers.get(name).push(fn);
    return this;
  }

  /** fn(state, {reconnected}) with state 'connecting' | 'open' | 'reconnecting'. */
  onStatus(fn) {
    this.statusHandlers.push(fn);
    return this;
  }

  start() {
    this.open();
  }

  open() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const source = new EventSource(typeof this.url === 'function' ? this.url() : this.url);
    this.source = source;
    this.status(this.connections ? 'reconnecting' : 'connecting');
    source.addEventListener('open', () => {
      this.connections++;
      this.retryMs = 1000;
      this.status('open', { reconnected: this.connections > 1 });
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      this.status('reconnecting');
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up on this one: start over ourselves, backing off to 10 s.
        this.retryTimer = setTimeout(() => this.open(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 10_000);
      }
    });
    for (const name of EVENTS) {
      source.addEventListener(name, (ev) => this.dispatch(name, ev.data));
    }
  }

  dispatch(name, raw) {
    let data;
    try {
      data = JSON.parse(raw);
    } catch {
      console.warn(`/events: "${name}" with data that is not JSON`, raw);
      return;
    }
    for (const fn of this.handlers.get(name)) {
      try {
        fn(data);
      } catch (err) {
        // One page's bug must not silence the others.
        console.error(`/events "${name}" handler failed`, err);
      }
    }
  }

  status(state, info = {}) {
    for (const fn of this.statusHandlers) fn(state, info);
  }
}
