// The dashboard's entry point: page switching by URL hash, one live feed (/events) shared by
// every page, and re-fetching what events do not carry after each (re)connection.
import { $ } from './dom.js';
import { LiveFeed } from './live.js';
import { ClusterPage } from './cluster.js';
import { TrafficPage } from './traffic.js';
import { RoutingPage } from './routing.js';
import { RequestsPage } from './requests.js';
import { OrchestrationsPage } from './orchestrations.js';
import { Playground } from './playground.js';
import { authRequired, currentKey, loadConfig, signIn, withKey } from './auth.js';

const PAGES = ['cluster', 'traffic', 'requests', 'routing', 'orchestrations', 'playground'];

const cluster = new ClusterPage({
  onSummary(text) {
    $('summary').textContent = text;
  },
});
const traffic = new TrafficPage();
const routing = new RoutingPage();
const requests = new RequestsPage();
const orchestrations = new OrchestrationsPage();
const playground = new Playground({
  onOrchestration(taskId) {
    orchestrations.selected = taskId;
    orchestrations.render();
  },
});

function showPage() {
  const wanted = location.hash.replace(/^#/, '');
  const page = PAGES.includes(wanted) ? wanted : 'cluster';
  for (const name of PAGES) $(`page-${name}`).hidden = name !== page;
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.dataset.page === page);
    if (link.dataset.page === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.body.dataset.page = page;
  traffic.show(page === 'traffic');
  orchestrations.show(page === 'orchestrations');
}
window.addEventListener('hashchange', showPage);
showPage();

function setConnection(state) {
  const conn = $('conn');
  const text = { open: 'live', connecting: 'connecting…', reconnecting: 'reconnecting…' }[state] ?? state;
  conn.textContent = text;
  conn.className = `conn conn-${state}`;
  conn.dataset.state = state;
}

// What the pages show that no event replays: the model list and the orchestration runs.
function refetch() {
  playground.loadModels();
  orchestrations.refresh();
}

const feed = new LiveFeed(() => withKey('/events'));
feed
  .onStatus((state) => {
    setConnection(state);
    if (state === 'open') refetch();
  })
  .on('hello', (h) => {
    // Each connection starts with hello, then the last 50 decisions: start the list over.
    routing.reset();
    $('conn').title = `Hydra ${h.version ?? ''}, up ${Math.round(h.uptime_s ?? 0)} s`;
  })
  .on('history', (h) => {
    // Then the last five minutes of traffic and the recent requests: the views start from them.
    traffic.load(h.traffic);
    cluster.loadActivity(h.traffic);
    requests.load(h.requests);
  })
  .on('nodes', (msg) => cluster.update(msg))
  .on('traffic', (ev) => {
    traffic.update(ev);
    cluster.addActivity(ev);
  })
  .on('routing', (d) => routing.add(d))
  .on('request', (r) => requests.add(r))
  .on('orchestration', (ev) => orchestrations.onEvent(ev));
// With API keys on, sign in before the feed starts (it cannot ask by itself).
await loadConfig();
if (authRequired() && !currentKey()) await signIn();
feed.start();

// Models come and go with nodes: reload the playground's list when the set of model names
// seen in `nodes` changes.
let modelKey = '';
feed.on('nodes', (msg) => {
  const key = [...new Set((msg.nodes ?? []).flatMap((n) => n.models ?? []))].sort().join('\n');
  if (key !== modelKey) {
    modelKey = key;
    playground.loadModels();
  }
});
