/**
 * The recent runs, newest first. Administrators can open a failed run's full
 * error (and any run's warnings) in a row below it; everyone else sees the
 * error code only, as /runs gives it to them.
 */
import type { Run } from './api';
import { count, h, runDuration, time } from './dom';

const TRIGGERS: Record<string, string> = { cron: 'Cron', schedule: 'Schedule', manual: 'Manual', reset: 'Reset', cli: 'CLI' };
const STOPS: Record<string, string> = {
  'caught-up': 'caught up',
  deadline: 'time budget',
  'rate-limit': 'rate limit',
  shutdown: 'shutdown',
  error: 'error',
  reset: 'checkpoint reset',
};

function statusBadge(run: Run): HTMLElement {
  const ok = run.status === 'ok';
  return h('span', { class: `badge ${ok ? 'badge-ok' : 'badge-failed'}` }, ok ? 'OK' : run.status === 'failed' ? 'Failed' : run.status);
}

function details(run: Run): HTMLElement {
  const parts: (Node | string)[] = [];
  if (run.error) {
    parts.push(h('p', { class: 'detail-title' }, `${run.error.name ?? 'Error'} ${run.error.code}`));
    if (run.error.message) parts.push(h('pre', { class: 'error-message' }, run.error.message));
  }
  if (run.warnings && run.warnings.length > 0) {
    parts.push(h('p', { class: 'detail-title' }, 'Warnings'));
    parts.push(h('ul', { class: 'warnings' }, ...run.warnings.map((w) => h('li', {}, w))));
  }
  if (run.startCheckpoint !== undefined || run.checkpoint !== undefined) {
    parts.push(h('p', { class: 'checkpoints' }, 'Checkpoint ', h('code', {}, run.startCheckpoint ?? 'none'), ' → ', h('code', {}, run.checkpoint ?? 'none')));
  }
  return h('div', { class: 'details' }, ...parts);
}

/** Rows shown before "Show all": the chart already gives the long view. */
const FIRST_ROWS = 20;

export interface TableState {
  /** Runs whose details row is open. */
  open: Set<string>;
  showAll: boolean;
}

export function renderRuns(container: HTMLElement, all: Run[], isAdmin: boolean, state: TableState): void {
  const { open } = state;
  const runs = state.showAll ? all : all.slice(0, FIRST_ROWS);
  if (runs.length === 0) {
    container.replaceChildren(h('p', { class: 'empty' }, 'No runs yet. Runs start on the schedule, or with Run now.'));
    return;
  }
  const head = h('thead', {}, h('tr', {},
    h('th', { scope: 'col' }, 'Started'),
    h('th', { scope: 'col' }, 'Duration'),
    h('th', { scope: 'col' }, 'Trigger'),
    h('th', { scope: 'col', class: 'num' }, 'Fetched'),
    h('th', { scope: 'col', class: 'num' }, 'Exported'),
    h('th', { scope: 'col', class: 'num' }, 'Filtered out'),
    h('th', { scope: 'col' }, 'Stopped by'),
    h('th', { scope: 'col' }, 'Status'),
    h('th', { scope: 'col' }, 'Error'),
  ));
  const body = h('tbody');
  for (const run of runs) {
    const hasDetails = isAdmin && (run.error?.message !== undefined || (run.warnings?.length ?? 0) > 0);
    const detailId = `run-details-${run.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const errorCell = h('td', {}, run.error ? h('code', { class: 'error-code' }, run.error.code) : h('span', { class: 'muted' }, '—'));
    if (hasDetails) {
      const expanded = open.has(run.id);
      const button = h('button', { type: 'button', class: 'link', 'aria-expanded': String(expanded), 'aria-controls': detailId }, expanded ? 'Hide' : run.error ? 'Details' : 'Warnings');
      button.addEventListener('click', () => {
        const row = document.getElementById(detailId);
        const show = button.getAttribute('aria-expanded') !== 'true';
        if (show) open.add(run.id);
        else open.delete(run.id);
        button.setAttribute('aria-expanded', String(show));
        button.textContent = show ? 'Hide' : run.error ? 'Details' : 'Warnings';
        if (row) row.hidden = !show;
      });
      errorCell.append(' ', button);
    }
    errorCell.setAttribute('data-label', 'Error');
    if (!run.error && !hasDetails) errorCell.className = 'no-error';
    // data-label: the column's name, shown beside each value when a phone stacks the row.
    body.appendChild(h('tr', { class: run.status === 'ok' ? 'run run-ok' : 'run run-failed', 'data-run': run.id },
      h('td', { class: 'started', 'data-label': 'Started' }, time(run.startedAt)),
      h('td', { 'data-label': 'Duration' }, run.trigger === 'reset' ? '—' : runDuration(run.durationMs)),
      h('td', { 'data-label': 'Trigger' }, TRIGGERS[run.trigger] ?? run.trigger),
      h('td', { class: 'num', 'data-field': 'fetched', 'data-label': 'Fetched' }, count(run.fetched)),
      h('td', { class: 'num', 'data-field': 'exported', 'data-label': 'Exported' }, count(run.exported)),
      h('td', { class: 'num', 'data-field': 'filteredOut', 'data-label': 'Filtered out' }, count(run.filteredOut)),
      h('td', { 'data-label': 'Stopped by' }, STOPS[run.stoppedBy] ?? run.stoppedBy),
      h('td', { class: 'status', 'data-label': 'Status' }, statusBadge(run)),
      errorCell,
    ));
    if (hasDetails) {
      body.appendChild(h('tr', { id: detailId, class: 'detail-row', hidden: !open.has(run.id) }, h('td', { colspan: 9 }, details(run))));
    }
  }
  let more: HTMLElement | null = null;
  if (all.length > FIRST_ROWS) {
    more = h('button', { type: 'button', class: 'link more', id: 'runs-toggle' }, state.showAll ? `Show the last ${FIRST_ROWS} only` : `Show all ${all.length} runs`);
    more.addEventListener('click', () => {
      state.showAll = !state.showAll;
      renderRuns(container, all, isAdmin, state);
      document.getElementById('runs-toggle')?.focus();
    });
  }
  container.replaceChildren(h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Recent runs' }, h('table', { class: 'runs' }, head, body)), ...(more ? [more] : []));
}
