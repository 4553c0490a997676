// Orchestrations page: the runs (GET /orchestrate, kept current by `orchestration` events) and,
// for the selected run, its sub-task DAG (dag.js), timings and the synthesised answer.
import { getJson } from './api.js';
import { $, el, formatMs, formatTime, setChildren } from './dom.js';
import { renderDag } from './dag.js';

const MAX_RUNS = 100;

export class OrchestrationsPage {
  constructor() {
    this.runs = new Map(); // task_id -> run (newest first by insertion below)
    this.order = []; // task ids, newest first
    this.selected = null;
    this.openOutputs = new Map(); // task_id -> Set of sub-task ids whose output is open
    this.visible = false;
    this.pendingFetch = new Set();
    this.dag = null;
    window.addEventListener('resize', () => this.dag?.drawArrows());
  }

  async refresh() {
    try {
      const { runs = [] } = await getJson('/orchestrate');
      this.order = [];
      this.runs.clear();
      for (const run of runs) this.upsert(run, { atEnd: true });
      this.render();
    } catch (err) {
      setChildren($('orch-list'), el('li', { class: 'error' }, `could not list runs: ${err.message}`));
    }
  }

  upsert(run, { atEnd = false } = {}) {
    if (!this.runs.has(run.task_id)) {
      if (atEnd) this.order.push(run.task_id);
      else this.order.unshift(run.task_id);
      while (this.order.length > MAX_RUNS) this.runs.delete(this.order.pop());
    }
    this.runs.set(run.task_id, run);
  }

  /** One `orchestration` event: {task_id, event, data}. */
  onEvent({ task_id: id, event, data }) {
    if (!id) return;
    if (event === 'synthesis') {
      // Pieces can be frequent; mark the step, leave the text to the final run.
      const run = this.runs.get(id);
      if (run && run.phase !== 'synthesis') {
        run.phase = 'synthesis';
        this.render();
      }
      return;
    }
    if (event === 'done') {
      this.upsert(data);
      this.render();
      return;
    }
    let run = this.runs.get(id);
    if (!run) {
      // A run that started after we listed them: fill in what events do not carry (the task).
      run = { task_id: id, task: '', status: 'running', complexity: null, subtasks: [], created_at: new Date().toISOString() };
      this.upsert(run);
      this.fetchRun(id);
    }
    if (event === 'analysed') run.complexity = data.complexity ?? run.complexity;
    if (event === 'planned') {
      run.subtasks = (data.subtasks ?? []).map((s) => ({ status: 'pending', ...s }));
    }
    if (event === 'subtask_started' || event === 'subtask_finished') {
      const st = run.subtasks.find((s) => String(s.id) === String(data.id));
      if (st) Object.assign(st, data, event === 'subtask_started' ? { status: 'running' } : {});
    }
    run.phase = event;
    this.render();
  }

  async fetchRun(id) {
    if (this.pendingFetch.has(id)) return;
    this.pendingFetch.add(id);
    try {
      const run = await getJson(`/orchestrate/${encodeURIComponent(id)}`);
      const known = this.runs.get(id);
      // Events that arrived meanwhile are newer than a running run's record; a finished one wins.
      if (!known || run.status !== 'running' || !known.subtasks?.length) this.upsert(run);
      else known.task = run.task;
      this.render();
    } catch {
      // The list is refreshed on reconnection; nothing else to do.
    } finally {
      this.pendingFetch.delete(id);
    }
  }

  select(id) {
    this.selected = id;
    this.render();
    const run = this.runs.get(id);
    // A run listed from GET /orchestrate is complete; one built from events may lack outputs.
    if (run && run.status !== 'running' && !run.timings) this.fetchRun(id);
  }

  show(visible) {
    this.visible = visible;
    if (visible) this.render();
  }

  render() {
    if (!this.visible) return;
    const list = this.order.map((id) => this.runs.get(id)).filter(Boolean);
    const running = list.filter((r) => r.status === 'running').length;
    $('orch-count').textContent = list.length ? `${running} running · ${list.length - running} finished` : '';
    setChildren($('orch-list'), list.length
      ? list.map((r) => el('li', {
        class: `run${r.task_id === this.selected ? ' selected' : ''}`,
        dataset: { testid: 'orch-run', taskId: r.task_id },
        tabindex: '0',
        onclick: () => this.select(r.task_id),
        onkeydown: (e) => { if (e.key === 'Enter') this.select(r.task_id); },
      },
      el('div', { class: 'run-head' },
        el('span', { class: `badge status-${r.status}` }, r.status === 'running' && r.phase ? `running: ${r.phase}` : r.status),
        el('span', { class: 'muted small' }, formatTime(r.created_at))),
      el('div', { class: 'run-task' }, r.task || r.task_id),
      el('div', { class: 'muted small' },
        `${r.complexity ?? '…'} · ${(r.subtasks ?? []).length} sub-tasks${r.timings?.total_ms ? ` · ${formatMs(r.timings.total_ms)}` : ''}`)))
      : el('li', { class: 'muted empty' }, 'No orchestration yet. Choose "orchestrate" in the Playground to start one.'));
    this.renderDetail();
  }

  renderDetail() {
    const box = $('orch-detail');
    const run = this.selected ? this.runs.get(this.selected) : null;
    this.dag = null;
    if (!run) {
      setChildren(box, el('p', { class: 'muted empty' }, 'Select a run to see its sub-tasks.'));
      return;
    }
    if (!this.openOutputs.has(run.task_id)) this.openOutputs.set(run.task_id, new Set());
    const t = run.timings ?? {};
    const dag = renderDag(run.subtasks ?? [], this.openOutputs.get(run.task_id));
    this.dag = dag;
    setChildren(box,
      el('div', { class: 'run-title' },
        el('span', { class: `badge status-${run.status}` }, run.status),
        el('h2', {}, run.task || run.task_id)),
      el('div', { class: 'muted small mono' }, run.task_id),
      el('div', { class: 'timings' },
        [['complexity', run.complexity ?? '…'], ['analyse', formatMs(t.analyse_ms)], ['decompose', formatMs(t.decompose_ms)],
          ['execute', formatMs(t.execute_ms)], ['synthesise', formatMs(t.synthesise_ms)], ['total', formatMs(t.total_ms)]]
          .map(([k, v]) => el('span', {}, el('span', { class: 'muted' }, `${k} `), v))),
      run.error ? el('p', { class: 'error' }, run.error) : null,
      (run.role_fallbacks ?? []).length
        ? el('p', { class: 'muted small' }, 'role fallbacks: ', run.role_fallbacks.map((f) => `${f.role}: ${f.wanted} → ${f.used}`).join(', '))
        : null,
      (run.subtasks ?? []).length ? dag : el('p', { class: 'muted' }, 'no plan yet'),
      run.synthesized ? el('details', { class: 'answer', open: true }, el('summary', {}, 'Synthesised answer'), el('pre', {}, run.synthesized)) : null);
    dag.drawArrows();
  }
}
