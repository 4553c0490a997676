// Playground: send a prompt to one model (POST /generate/stream) or to the orchestrator
// (POST /orchestrate, stream:true), show the reply as it streams, then how it was routed.
import { getJson } from './api.js';
import { $, el, formatMs, formatNumber, setChildren } from './dom.js';
import { postEventStream } from './sse.js';
import { apiUrl } from './auth.js';

const ORCHESTRATE = '__orchestrate__';

function decisionView(done) {
  const d = done.routing_decision ?? {};
  const t = done.timings ?? {};
  return [
    el('h3', {}, 'Routing decision'),
    el('dl', { class: 'kv' },
      el('dt', {}, 'model'), el('dd', { dataset: { testid: 'pg-model-used' } }, done.model ?? ''),
      el('dt', {}, 'node'), el('dd', { class: 'mono', dataset: { testid: 'pg-node' } }, d.selected_node ?? done.node_id ?? 'none',
        done.node_url ? el('span', { class: 'muted' }, ` (${done.node_url})`) : null),
      d.requested_node ? [el('dt', {}, 'requested'), el('dd', { class: 'mono' }, d.requested_node)] : null,
      el('dt', {}, 'reason'), el('dd', { dataset: { testid: 'pg-reason' } }, d.reason ?? ''),
      el('dt', {}, 'queued'), el('dd', {}, d.queued ? 'yes' : 'no'),
      el('dt', {}, 'timings'), el('dd', {},
        `first token ${formatMs(t.first_token_ms)} · total ${formatMs(t.total_ms)}` +
        `${t.load_ms ? ` · load ${formatMs(t.load_ms)}` : ''}` +
        `${t.eval_count ? ` · ${t.eval_count} tokens` : ''}` +
        `${t.tokens_per_second ? ` · ${formatNumber(t.tokens_per_second, 1)} tokens/s` : ''}`)),
    (d.candidates ?? []).length
      ? el('table', { class: 'grid compact', dataset: { testid: 'pg-candidates' } },
        el('thead', {}, el('tr', {}, el('th', {}, 'candidate'), el('th', {}, 'score'), el('th', {}, 'placement'), el('th', {}, 'free slot'))),
        el('tbody', {}, d.candidates.map((c) => el('tr', { class: c.node_id === d.selected_node ? 'chosen' : '' },
          el('td', { class: 'mono' }, c.node_id), el('td', {}, formatNumber(c.score, 2)), el('td', {}, c.placement), el('td', {}, c.free_slot ? 'yes' : 'no')))))
      : null,
  ];
}

export class Playground {
  constructor({ onOrchestration }) {
    this.onOrchestration = onOrchestration;
    this.abort = null;
    this.models = [];
    $('pg-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
    $('pg-stop').addEventListener('click', () => this.abort?.abort());
    $('pg-prompt').addEventListener('keydown', (e) => {
      // Ctrl/Cmd+Enter sends, as in most chat boxes.
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('pg-form').requestSubmit();
    });
  }

  async loadModels() {
    const select = $('pg-model');
    const previous = select.value;
    try {
      const { models = [] } = await getJson('/models');
      this.models = models.map((m) => m.name);
    } catch {
      // Keep what we had: the gateway may be restarting.
    }
    setChildren(select,
      this.models.map((name) => el('option', { value: name }, name)),
      el('option', { value: ORCHESTRATE }, 'orchestrate (split over the fleet)'));
    if ([...select.options].some((o) => o.value === previous)) select.value = previous;
  }

  setBusy(busy, status) {
    $('pg-send').disabled = busy;
    $('pg-stop').disabled = !busy;
    $('pg-status').textContent = status;
    $('pg-reply').dataset.state = busy ? 'streaming' : 'idle';
  }

  async send() {
    const prompt = $('pg-prompt').value.trim();
    const model = $('pg-model').value;
    if (!prompt || this.abort) return;
    const reply = $('pg-reply');
    reply.textContent = '';
    reply.dataset.chunks = '0';
    reply.classList.remove('error');
    setChildren($('pg-decision'));
    setChildren($('pg-progress'));
    this.abort = new AbortController();
    const started = performance.now();
    this.setBusy(true, 'sending…');
    try {
      if (model === ORCHESTRATE) await this.orchestrate(prompt);
      else await this.generate(prompt, model);
    } catch (err) {
      if (err.name === 'AbortError') {
        this.setBusy(false, 'stopped');
      } else {
        this.fail(err.message);
      }
    } finally {
      this.abort = null;
      if ($('pg-send').disabled) this.setBusy(false, `done in ${formatMs(performance.now() - started)}`);
    }
  }

  fail(message) {
    const reply = $('pg-reply');
    reply.classList.add('error');
    reply.append(document.createTextNode(`${reply.textContent ? '\n' : ''}error: ${message}`));
    this.setBusy(false, 'failed');
  }

  appendPiece(piece) {
    const reply = $('pg-reply');
    reply.append(document.createTextNode(piece));
    reply.dataset.chunks = String(Number(reply.dataset.chunks) + 1);
    $('pg-status').textContent = `streaming… ${reply.dataset.chunks} chunks`;
  }

  async generate(prompt, model) {
    await postEventStream(apiUrl('/generate/stream'), { prompt, model }, (name, data) => {
      if (name === 'chunk') this.appendPiece(data.response ?? '');
      else if (name === 'done') {
        // The whole reply, in case a piece was missed.
        if (typeof data.response === 'string' && data.response.length > $('pg-reply').textContent.length) {
          $('pg-reply').textContent = data.response;
        }
        setChildren($('pg-decision'), decisionView(data));
      } else if (name === 'error') this.fail(data.error ?? 'unknown error');
    }, { signal: this.abort.signal });
  }

  async orchestrate(task) {
    const progress = $('pg-progress');
    const line = (text, cls = '') => progress.append(el('div', { class: `progress-line ${cls}`, dataset: { testid: 'pg-progress-line' } }, text));
    let plan = [];
    await postEventStream(apiUrl('/orchestrate'), { task, stream: true }, (name, data) => {
      if (name === 'analysed') line(`analysed: ${data.complexity ?? 'unknown'} task`);
      else if (name === 'planned') {
        plan = data.subtasks ?? [];
        line(`planned ${plan.length} sub-task${plan.length === 1 ? '' : 's'}`);
        this.onOrchestration?.(data.task_id);
      } else if (name === 'subtask_started') line(`#${data.id} started on ${data.model}`, 'muted');
      else if (name === 'subtask_finished') {
        line(`#${data.id} ${data.status} (${data.model}${data.node_id ? ` on ${data.node_id}` : ''}, ${formatMs(data.duration_ms)})${data.error ? `: ${data.error}` : ''}`,
          data.status === 'failed' ? 'error' : '');
      } else if (name === 'synthesis') this.appendPiece(data.piece ?? '');
      else if (name === 'done') {
        $('pg-reply').textContent = data.synthesized ?? $('pg-reply').textContent;
        line(`done: ${data.status}, ${formatMs(data.timings?.total_ms)}`);
        setChildren($('pg-decision'),
          el('h3', {}, 'Orchestration'),
          el('p', {}, `${(data.subtasks ?? []).length} sub-tasks ran on `,
            el('span', { class: 'mono' }, [...new Set((data.subtasks ?? []).map((s) => s.node_id).filter(Boolean))].join(', ') || 'no node'),
            '. ',
            el('a', { href: '#orchestrations', dataset: { testid: 'pg-run-link' }, onclick: () => this.onOrchestration?.(data.task_id) }, 'See its DAG')));
      } else if (name === 'error') this.fail(data.error ?? 'unknown error');
    }, { signal: this.abort.signal });
  }
}
