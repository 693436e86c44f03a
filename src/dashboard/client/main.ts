/**
 * The dashboard: reads ./health and ./runs, draws the status cards, the
 * chart and the runs table, and refreshes itself. Without the admin token it
 * shows exactly what those endpoints give anyone; with it, the full run
 * records and the controls.
 */
import { createAdminPanel, type MessageKind } from './admin';
import { call, token, type Checklist, type ExportSettings, type Health, type LogStream, type Run, type Runs } from './api';
import { renderChart } from './chart';
import { ago, count, duration, h, replace, when } from './dom';
import { createLiveLog } from './live-log';
import { renderRuns } from './runs-table';

const REFRESH_MS = 10_000;
const REFRESH_RUNNING_MS = 2_000;

interface View {
  health: Health | undefined;
  runs: Run[] | undefined;
  /** Why there are no runs to show, when there are none. */
  runsLocked: boolean;
  isAdmin: boolean;
  checkpoint: string | null | undefined;
  /** What leaves the tenant; only an admin's answer has it. */
  settings: ExportSettings | undefined;
}

const view: View = { health: undefined, runs: undefined, runsLocked: false, isAdmin: false, checkpoint: undefined, settings: undefined };
const table = { open: new Set<string>(), showAll: false };
let timer: ReturnType<typeof setTimeout> | undefined;
let lastChartWidth = 0;
let lastHistory = '';

const $ = (id: string): HTMLElement => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
};

function notice(kind: MessageKind | 'hidden', text = ''): void {
  const node = $('notice');
  node.hidden = kind === 'hidden';
  node.className = `notice notice-${kind}`;
  node.textContent = text;
}

function card(label: string, value: Node | string, sub: Node | string | null, attributes: Record<string, string> = {}): HTMLElement {
  return h('div', { class: 'card', ...attributes }, h('p', { class: 'card-label' }, label), h('p', { class: 'card-value' }, value), sub === null ? null : h('p', { class: 'card-sub' }, sub));
}

const STATUS_TEXT: Record<Health['status'], string> = { ok: 'Healthy', failing: 'Failing', idle: 'Idle', 'reship-pending': 'Pages in doubt' };

/** The Status card's line: for pages in doubt, which ones and what is being done about them. */
function statusDetail(health: Health): string {
  if (health.running) return 'a run is in progress';
  if (health.status === 'reship-pending') {
    const unwritten = health.takeBackPending?.[0];
    if (unwritten) return `the pages after log ${unwritten.after} through ${unwritten.through} must be shipped again; recording that is being retried`;
    if (health.reshipPending) return `the pages after log ${health.reshipPending.after} through ${health.reshipPending.through} are shipped again by the next run`;
  }
  return health.status === 'idle' ? 'no run yet' : health.status === 'ok' ? 'the last run succeeded' : 'the last run failed';
}

function renderStatus(health: Health | undefined): void {
  const pill = $('status');
  if (!health) {
    pill.className = 'pill pill-unknown';
    pill.textContent = 'Unknown';
    return;
  }
  const label = health.paused ? 'Paused' : health.running ? 'Running' : STATUS_TEXT[health.status];
  pill.className = `pill pill-${health.paused ? 'paused' : health.running ? 'running' : health.status}`;
  pill.textContent = label;
  pill.title = `${STATUS_TEXT[health.status]}${health.paused ? ', paused' : ''}${health.running ? ', a run is in progress' : ''}`;
}

const STREAM_TEXT: Record<LogStream['status'], string> = { ok: 'Receiving', waiting: 'Waiting', silent: 'Silent' };

/** The log stream's state, when the service receives one: the card is absent otherwise. */
function logStreamCard(stream: LogStream | undefined, now: number): HTMLElement | null {
  if (stream === undefined) return null;
  // The shared figures first: a replica behind a load balancer sees only its share of the deliveries.
  const all = stream.allReplicas ?? stream;
  const sub = stream.problem ?? (stream.lastDeliveryAt
    ? h('span', {}, `last delivery ${ago(stream.lastDeliveryAt, now)}; all replicas: ${count(all.shipped)} shipped, ${count(all.gapFills)} filled in by the poller; this replica: ${count(stream.shipped)} shipped, ${count(stream.gapFills)} filled in`)
    : 'no delivery yet');
  // Only once Auth0 has answered: a service without read:log_streams shows the deliveries alone (/health says why).
  const auth0 = stream.auth0?.status === 'unknown' ? undefined : stream.auth0;
  // Auth0 paused or suspended it: that says more than the deliveries do.
  const stopped = auth0?.status === 'paused' || auth0?.status === 'suspended';
  const value = stopped ? `${auth0.status === 'paused' ? 'Paused' : 'Suspended'} in Auth0` : STREAM_TEXT[stream.status];
  const inAuth0 = auth0 === undefined ? null : h('span', { 'data-auth0-status': auth0.status }, [
    `Auth0: ${auth0.status}${auth0.checkedAt ? `, read ${ago(auth0.checkedAt, now)}` : ''}`,
    stopped && auth0.inactiveSince ? `; stopped ${ago(auth0.inactiveSince, now)}` : '',
    auth0.autoResume.enabled ? `; auto-resume on${auth0.autoResume.lastResumedAt ? `, last resumed ${ago(auth0.autoResume.lastResumedAt, now)}` : ''}` : stopped ? '; resume it in the Auth0 Dashboard' : '',
  ].join(''));
  return card('Log stream', value, inAuth0 === null ? sub : h('span', {}, sub, h('br', {}), inAuth0), { 'data-card': 'log-stream', class: `card ${stream.status === 'silent' || stopped ? 'card-failing' : ''}` });
}

function renderCards(health: Health | undefined): void {
  const cards = $('cards');
  if (!health) {
    cards.replaceChildren();
    return;
  }
  const now = Date.now();
  const list: (HTMLElement | null)[] = [
    card('Status', STATUS_TEXT[health.status], statusDetail(health), { 'data-card': 'status', class: `card card-${health.status}` }),
    // Lag as /metrics and the alerts mean it: a quiet tenant is caught up, not behind.
    card('Lag', health.lagSeconds === null ? '—' : health.lagSeconds === 0 ? 'caught up' : duration(health.lagSeconds), health.lagSeconds === null ? 'no successful run yet' : health.lagSeconds === 0 ? 'the last run read everything Auth0 had' : 'behind when the last run stopped', { 'data-card': 'lag', 'data-seconds': String(health.lagSeconds ?? '') }),
    health.newestExportedAgeSeconds === undefined
      ? null
      : card('Newest log exported', health.newestExportedAgeSeconds === null ? '—' : `${duration(health.newestExportedAgeSeconds)} ago`, health.newestExportedAgeSeconds === null ? 'nothing exported yet' : 'when its event happened', { 'data-card': 'newest-log', 'data-seconds': String(health.newestExportedAgeSeconds ?? '') }),
    card('Last success', when(health.lastSuccessAt), health.lastSuccessAt ? ago(health.lastSuccessAt, now) : null, { 'data-card': 'last-success' }),
    card('Last run', when(health.lastRunAt), health.lastRunAt ? ago(health.lastRunAt, now) : null, { 'data-card': 'last-run' }),
    card('Runs', health.paused ? 'Paused' : 'Active', health.paused ? 'scheduled and manual runs are off' : 'running on schedule', { 'data-card': 'paused', class: `card ${health.paused ? 'card-paused' : ''}` }),
    'nextRunAt' in health
      ? card('Next run', health.paused ? 'Paused' : when(health.nextRunAt ?? null), !health.paused && health.nextRunAt ? ago(health.nextRunAt, now) : null, { 'data-card': 'next-run' })
      : null,
    logStreamCard(health.logStream, now),
  ];
  replace(cards, ...list);
}

function renderHistory(): void {
  const chart = $('chart');
  const runs = $('runs');
  if (view.runs === undefined) {
    lastHistory = '';
    const text = view.runsLocked ? 'The run history is for administrators: sign in below to see it.' : 'Loading…';
    replace(chart, h('p', { class: 'empty' }, text));
    replace(runs, h('p', { class: 'empty' }, text));
    return;
  }
  // Redraw only what changed, so a refresh does not take the keyboard focus or an open tooltip away.
  const key = JSON.stringify([view.runs, view.isAdmin]);
  if (key === lastHistory) return;
  lastHistory = key;
  lastChartWidth = chart.clientWidth;
  renderChart(chart, view.runs);
  renderRuns(runs, view.runs, view.isAdmin, table);
}

/** MESSAGE_FORMAT, OMIT_FIELDS and PII_* as in effect: shown to administrators, as /runs gives it to them only. */
function renderSettings(settings: ExportSettings | undefined): void {
  const panel = $('settings-panel');
  panel.hidden = settings === undefined;
  if (settings === undefined) return;
  const pii = settings.personalData;
  const row = (name: string, value: string, setting: string): HTMLElement =>
    h('div', { class: 'setting', 'data-setting': setting }, h('dt', {}, name), h('dd', {}, value));
  replace($('settings'), h('dl', { class: 'settings' },
    row('Personal data', pii === null ? 'sent as Auth0 gives it (PII_FIELDS is empty)' : `${pii.fields.join(', ')}: ${pii.method === 'hash' ? 'hashed (a keyed pseudonym per value)' : 'masked (the shape only)'}`, 'PII_FIELDS'),
    row('Omitted fields', settings.omitFields.length === 0 ? 'none' : settings.omitFields.join(', '), 'OMIT_FIELDS'),
    row('Message format', settings.messageFormat === 'summary' ? 'summary: a readable line, then the JSON' : 'json: the event as JSON', 'MESSAGE_FORMAT'),
  ));
}

function render(): void {
  // The live view exists for administrators of a service that has one; signing out stops it at once.
  live.follow(view.isAdmin && view.health?.liveProgress === true ? token.get() : null);
  renderStatus(view.health);
  renderCards(view.health);
  renderHistory();
  renderSettings(view.isAdmin ? view.settings : undefined);
  admin.update({ signedIn: view.isAdmin, paused: view.health?.paused ?? false, checkpoint: view.checkpoint });
  $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

async function loadHealth(): Promise<void> {
  const answer = await call<Health & { error?: { code: string; settings?: string[] } }>('GET', 'health');
  if (answer.status === 200 && answer.body) {
    view.health = answer.body;
    notice('hidden');
    return;
  }
  view.health = undefined;
  const settings = answer.body?.error?.settings;
  notice('error', settings && settings.length > 0
    ? `The settings are invalid: ${settings.join(', ')}. Runs cannot start until they are fixed; the logs say why.`
    : `The service answered /health with ${answer.status}.`);
}

/** Loads the history; with a token, also decides whether it is an admin's. */
async function loadRuns(): Promise<{ rejected: boolean; noAdminToken: boolean }> {
  const bearer = token.get();
  if (bearer === null && view.health?.historyOpen === false) {
    // The history is for administrators: asking would only earn a 401 (a console error in every browser).
    view.runs = undefined;
    view.isAdmin = false;
    view.checkpoint = undefined;
    view.runsLocked = true;
    return { rejected: false, noAdminToken: false };
  }
  const answer = await call<Runs>('GET', 'runs', { token: bearer });
  if (answer.status === 200 && answer.body) {
    view.runs = answer.body.runs;
    view.runsLocked = false;
    // Only an admin's answer carries the checkpoint.
    view.isAdmin = bearer !== null && 'checkpoint' in answer.body;
    view.checkpoint = answer.body.checkpoint;
    view.settings = answer.body.settings;
    return { rejected: false, noAdminToken: bearer !== null && !view.isAdmin };
  }
  view.runs = undefined;
  view.isAdmin = false;
  view.checkpoint = undefined;
  view.runsLocked = answer.status === 401;
  return { rejected: bearer !== null && answer.status === 401, noAdminToken: false };
}

async function refresh(): Promise<void> {
  if (timer !== undefined) clearTimeout(timer);
  try {
    // /health first: it says whether the history is open to this visitor.
    await loadHealth();
    const runs = await loadRuns();
    if (runs.rejected) {
      token.clear();
      admin.show('error', 'The admin token is no longer accepted (ADMIN_TOKEN changed?). Sign in again.');
    } else if (runs.noAdminToken) {
      token.clear();
      admin.show('error', 'This deployment has no ADMIN_TOKEN set, so there is nothing to sign in to. Set ADMIN_TOKEN to enable the controls.');
    }
  } catch {
    notice('error', 'Could not reach the service. Retrying…');
  }
  render();
  timer = setTimeout(() => void refresh(), view.health?.running ? REFRESH_RUNNING_MS : REFRESH_MS);
}

function describeRun(body: Partial<Run> & { status?: string; reason?: string } | undefined, status: number): [MessageKind, string] {
  if (status === 200 && body?.status === 'ok') return ['ok', `Run finished: ${count(body.exported ?? 0)} exported, ${count(body.filteredOut ?? 0)} filtered out in ${count(body.pages ?? 0)} pages (stopped by ${body.stoppedBy ?? '?'}).`];
  if (status === 409 && body?.status === 'paused') return ['error', 'Runs are paused: resume first.'];
  if (status === 409) return ['error', `Not started: ${body?.reason ?? 'another run is in progress'}.`];
  if (body?.status === 'failed') return ['error', `The run failed: ${body.error?.code ?? status}. See its details in the table.`];
  return ['error', `The service answered ${status}.`];
}

const live = createLiveLog($('live-panel'), $('live-log'), $('live-status'));

const admin = createAdminPanel($('admin'), {
  async signIn(value) {
    const answer = await call<Runs>('GET', 'runs', { token: value });
    if (answer.status === 401) {
      admin.show('error', 'That token was not accepted. It must be the value of the ADMIN_TOKEN setting, exactly.');
      admin.focusToken();
      return;
    }
    if (answer.status === 200 && answer.body && !('checkpoint' in answer.body)) {
      admin.show('error', 'This deployment has no ADMIN_TOKEN set, so there is nothing to sign in to. Set ADMIN_TOKEN to enable the controls.');
      return;
    }
    if (answer.status !== 200) {
      admin.show('error', `The service answered ${answer.status}.`);
      return;
    }
    token.set(value);
    admin.show('ok', 'Signed in.');
    await refresh();
  },
  signOut() {
    token.clear();
    view.isAdmin = false;
    live.follow(null);
    admin.show('info', 'Signed out.');
    void refresh();
  },
  async runNow() {
    admin.show('info', 'Running… this takes as long as the run does.');
    const answer = await call<Partial<Run> & { reason?: string }>('POST', 'run', { token: token.get(), body: {} });
    const [kind, text] = describeRun(answer.body, answer.status);
    admin.show(kind, text);
    await refresh();
  },
  async check(sendTest) {
    admin.show('info', 'Checking Auth0, Papertrail and the state store…');
    const answer = await call<Checklist>('POST', 'check', { token: token.get(), body: { sendTest } });
    if (answer.status === 200 && answer.body) return answer.body;
    admin.show('error', `The service answered ${answer.status}.`);
    return null;
  },
  async setPaused(paused) {
    const answer = await call<{ status: string }>('POST', paused ? 'pause' : 'resume', { token: token.get(), body: {} });
    admin.show(answer.status === 200 ? 'ok' : 'error', answer.status === 200 ? (paused ? 'Paused: scheduled and manual runs are off.' : 'Resumed.') : `The service answered ${answer.status}.`);
    await refresh();
  },
  async reset(checkpoint) {
    const answer = await call<{ status: string; reason?: string }>('POST', 'reset', { token: token.get(), body: { checkpoint } });
    if (answer.status === 200) admin.show('ok', `Checkpoint reset to ${checkpoint ?? 'none: the next run starts at the oldest retained log'}.`);
    else admin.show('error', answer.status === 409 ? `Not reset: ${answer.body?.reason ?? 'a run is in progress'}.` : `The service answered ${answer.status}.`);
    await refresh();
  },
});

// Redraw the chart for a new width (phone rotation, window resize).
window.addEventListener('resize', () => {
  if (view.runs !== undefined && Math.abs($('chart').clientWidth - lastChartWidth) > 8) {
    lastChartWidth = $('chart').clientWidth;
    renderChart($('chart'), view.runs);
  }
});
// No polling in a background tab; catch up when it is shown again.
document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    if (timer !== undefined) clearTimeout(timer);
  } else void refresh();
});

void refresh();
