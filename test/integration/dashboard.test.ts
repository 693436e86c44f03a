/**
 * The dashboard in a real headless Chromium, against `serve` and the built
 * extension under webtask-runtime, after real runs against the simulated
 * tenant and rsyslogd: what it shows, the admin's controls, hostile text,
 * and that it loads nothing from anywhere else.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { closeAllBrowsers, launchBrowser, screenshot } from '../support/browser';
import { createTestPki } from '../support/certs';
import { killAllClis, runCli } from '../support/cli';
import { makeLogId, type TenantEvent } from '../support/events';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant, type FakeTenantOptions } from '../support/fake-tenant';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import { encodeBatch, toStreamRecord } from '../support/log-stream-sender';
import { startServe, until } from '../support/serve';
import { readStoredState } from '../support/stored-state';
import { startWebtaskHost } from '../support/webtask-host';

const pki = createTestPki();
const ADMIN = 'dashboard-admin-token-0123456789abcdef';
const STREAM_TOKEN = 'dashboard-stream-token-0123456789';
/** A schedule that never comes during a test: runs happen only when a test starts them. */
const NEVER = '0 0 1 1 *';

interface StoredRun { id: string; trigger: string; status: string; fetched: number; exported: number; filteredOut: number; lagSeconds: number | null; startedAt: string; error?: { code: string; message: string } }
const stateOf = (file: string): { checkpoint: string | null; paused: boolean; newestExportedDate: string | null; runs: StoredRun[] } => readStoredState(file);

let receiver: RsyslogReceiver;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
});
afterEach(async () => {
  await closeAllBrowsers();
  killAllClis();
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
afterAll(async () => {
  await stopAllReceivers();
});

async function tenantWith(options: FakeTenantOptions): Promise<FakeTenant> {
  const tenant = await startFakeTenant({ start: new Date(Date.now() - 3_600_000), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile, ...options });
  cleanups.push(() => tenant.stop());
  return tenant;
}

const rows = (page: Page) => page.locator('#runs tr.run');
const cell = (page: Page, row: number, field: string) => rows(page).nth(row).locator(`td[data-field="${field}"]`).innerText();

async function signIn(page: Page, token: string): Promise<void> {
  await page.locator('#admin-token').fill(token);
  await page.locator('#admin-token').press('Enter');
}

/** Only the page's own origin, and only the page's own files and endpoints. */
function expectOnlyOwnRequests(requests: string[], base: string): void {
  const origin = new URL(base).origin;
  expect(requests.length).toBeGreaterThan(0);
  expect(requests.filter((u) => new URL(u).origin !== origin)).toEqual([]);
}

describe('the dashboard (serve)', () => {
  it('shows the status, lag and counts of real runs, one chart point per run, times in the viewer\'s zone, loading nothing from elsewhere', async () => {
    const tenant = await tenantWith({ count: 250 });
    const env = exportEnv(tenant, receiver);
    expect((await runCli(['run'], env)).code).toBe(0);
    tenant.append(120);
    expect((await runCli(['run'], env)).code).toBe(0);
    tenant.setFault('forbidden');
    expect((await runCli(['run'], env)).code).toBe(1);
    tenant.setFault(null);
    tenant.append(30);
    expect((await runCli(['run'], env)).code).toBe(0);
    const service = await startServe({ ...env, SCHEDULE: NEVER });
    cleanups.push(async () => {
      service.child.kill('SIGTERM');
      await service.done;
    });

    // JSON callers keep the JSON answer; a browser gets the page, with a strict policy.
    const json = await fetch(`${service.url}/`);
    expect(json.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await json.json()) as { endpoints: string[] }).endpoints).toContain('GET /health');
    expect((await (await fetch(`${service.url}/`, { headers: { accept: 'application/json, text/html' } })).json()) as object).toHaveProperty('endpoints');

    const browser = await launchBrowser();
    const { page } = browser;
    const response = await page.goto(`${service.url}/`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await until('the four runs', async () => (await rows(page).count()) === 4);

    const state = stateOf(env.STORAGE_FILE);
    const health = (await (await fetch(`${service.url}/health`)).json()) as { status: string; lagSeconds: number; newestExportedAgeSeconds: number; nextRunAt: string | null };
    expect(health.status).toBe('ok');
    expect(await page.locator('#status').innerText()).toBe('Healthy');
    expect(await page.locator('[data-card="status"] .card-value').innerText()).toBe('Healthy');
    // The last run caught up: not behind, however old the newest log is (a quiet tenant).
    expect(health.lagSeconds).toBe(0);
    expect(await page.locator('[data-card="lag"] .card-value').innerText()).toBe('caught up');
    // The newest log's age, shown as what it is, as /health says to within the seconds between the two reads.
    const shownAge = Number(await page.locator('[data-card="newest-log"]').getAttribute('data-seconds'));
    expect(Math.abs(shownAge - health.newestExportedAgeSeconds)).toBeLessThanOrEqual(5);
    expect(shownAge).toBeGreaterThan(0);
    expect(await page.locator('[data-card="newest-log"] .card-value').innerText()).toMatch(/^\d+ (s|min|h|d)( \d+ (s|min|h))? ago$/);
    expect(await page.locator('[data-card="paused"] .card-value').innerText()).toBe('Active');
    // The service's next scheduled run (1 January, 00:00 in the server's zone).
    expect(health.nextRunAt).toMatch(/-01-01T/);
    expect(await page.locator('[data-card="next-run"] time').getAttribute('datetime')).toBe(new Date(health.nextRunAt ?? '').toISOString());

    // The table: newest first, the stored counts, the failed run's code.
    const newestFirst = [...state.runs].reverse();
    expect(newestFirst.map((r) => r.status)).toEqual(['ok', 'failed', 'ok', 'ok']);
    for (const [i, run] of newestFirst.entries()) {
      expect(await cell(page, i, 'fetched')).toBe(run.fetched.toLocaleString('en-GB'));
      expect(await cell(page, i, 'exported')).toBe(run.exported.toLocaleString('en-GB'));
      expect(await cell(page, i, 'filteredOut')).toBe(run.filteredOut.toLocaleString('en-GB'));
    }
    expect(newestFirst.map((r) => r.exported)).toEqual([30, 0, 120, 250]);
    expect(await rows(page).nth(1).innerText()).toContain('AUTH0_FORBIDDEN');
    // Without the admin token (none is set) no one sees a full error.
    expect(await page.locator('#runs').innerText()).not.toContain('read:logs');

    // The chart: one point per run, oldest first, the failed one marked.
    const points = page.locator('#chart .point');
    expect(await points.count()).toBe(4);
    expect(await points.evaluateAll((ps) => ps.map((p) => Number(p.getAttribute('data-exported'))))).toEqual([250, 120, 0, 30]);
    expect(await page.locator('#chart .point-failed').count()).toBe(1);
    expect(await page.locator('#chart .point-failed .fail-mark').count()).toBe(1);

    // Times in the viewer's zone (the browser runs in Europe/Paris), UTC on hover.
    const first = rows(page).nth(0).locator('time');
    const started = newestFirst[0]?.startedAt ?? '';
    expect(await first.getAttribute('title')).toBe(`${started.replace('T', ' ').replace(/\.\d+Z$/, '')} UTC`);
    const paris = new Date(started).toLocaleTimeString('en-GB', { timeZone: 'Europe/Paris' });
    expect(await first.innerText()).toContain(paris);

    expectOnlyOwnRequests(browser.requests, service.url);
    expect(browser.requests.map((u) => new URL(u).pathname).sort()).toEqual(expect.arrayContaining(['/', '/dashboard.css', '/dashboard.js', '/health', '/runs']));

    await screenshot(page, 'dashboard-open', { width: 1280, height: 800 });
    await screenshot(page, 'dashboard-open', { width: 390, height: 844 });
    expect(await page.locator('#chart .point').count()).toBe(4);

    // With no ADMIN_TOKEN configured there is nothing to sign in to, and the page says so.
    await signIn(page, 'any-token-at-all-0123456789');
    await page.locator('#admin-message', { hasText: 'no ADMIN_TOKEN set' }).waitFor();
    expect(await page.locator('#run-now').count()).toBe(0);
    expect(browser.errors).toEqual([]);
  });

  it('asks only for what its visitor may see (no console error, no failed request, with or without the token), and its Lag card reads as /metrics', async () => {
    // Each logs request answered after 1.5 s: a 5-second run stops by its deadline with logs still waiting, so it ends behind.
    const tenant = await tenantWith({ count: 3_000, latencyMs: 1_500 });
    const env = exportEnv(tenant, receiver, { ADMIN_TOKEN: ADMIN, MAX_RUN_SECONDS: '5' });
    const behind = await runCli(['run'], env);
    expect(behind.code).toBe(0);
    expect(JSON.parse(behind.stdout) as { stoppedBy: string }).toMatchObject({ stoppedBy: 'deadline' });
    const service = await startServe({ ...env, SCHEDULE: NEVER });
    cleanups.push(async () => {
      service.child.kill('SIGTERM');
      await service.done;
    });
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    const lag = Number(/^auth0_papertrail_lag_seconds (\d+)$/m.exec(metrics)?.[1]);
    expect(lag).toBeGreaterThan(0);

    const browser = await launchBrowser();
    const { page } = browser;
    const consoleErrors: string[] = [];
    const failed: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
    page.on('response', (r) => void (r.status() >= 400 && failed.push(`${r.status()} ${new URL(r.url()).pathname}`)));
    page.on('requestfailed', (r) => {
      // The live view's stream is open for as long as the page is: a reload cuts it (ERR_ABORTED), which is no failure.
      if (new URL(r.url()).pathname === '/progress' && r.failure()?.errorText === 'net::ERR_ABORTED') return;
      failed.push(`failed ${new URL(r.url()).pathname} ${r.failure()?.errorText ?? ''}`);
    });
    await page.goto(`${service.url}/`);
    await page.locator('#runs', { hasText: 'for administrators' }).waitFor();
    await page.locator('[data-card="lag"]').waitFor();
    expect(Number(await page.locator('[data-card="lag"]').getAttribute('data-seconds'))).toBe(lag);
    expect(await page.locator('[data-card="lag"] .card-value').innerText()).not.toBe('caught up');
    // A refresh later, still nothing asked that would be refused.
    await page.reload();
    await page.locator('#runs', { hasText: 'for administrators' }).waitFor();
    expect(browser.requests.map((u) => new URL(u).pathname)).not.toContain('/runs');

    await signIn(page, ADMIN);
    await until('the run history', async () => (await rows(page).count()) === 1);
    await page.reload();
    await until('the run history after a reload', async () => (await rows(page).count()) === 1);
    expect(Number(await page.locator('[data-card="lag"]').getAttribute('data-seconds'))).toBe(lag);
    expect({ consoleErrors, failed, errors: browser.errors }).toEqual({ consoleErrors: [], failed: [], errors: [] });
  });

  it("gives an admin a live view of the service's progress lines: each within a second, never a secret, stopped at sign-out", async () => {
    const tenant = await tenantWith({ count: 300, clientSecret: 'live-view-client-secret-0a1b2c3d' });
    const papertrailToken = 'live-view-papertrail-token-4e5f6a7b';
    const env = exportEnv(tenant, receiver, { ADMIN_TOKEN: ADMIN, PAPERTRAIL_TOKEN: papertrailToken });
    const service = await startServe({ ...env, SCHEDULE: NEVER });
    cleanups.push(async () => {
      service.child.kill('SIGTERM');
      await service.done;
    });
    const browser = await launchBrowser();
    const { page } = browser;
    await page.goto(`${service.url}/`);
    // A visitor has no live view, and the page does not ask for one.
    await page.locator('#runs', { hasText: 'for administrators' }).waitFor();
    expect(await page.locator('#live-panel').isHidden()).toBe(true);
    await signIn(page, ADMIN);
    await page.locator('#live-status', { hasText: 'Live' }).waitFor();
    // Lines written before the admin looked are there too (the service's start).
    await page.locator('#live-log', { hasText: 'serving on' }).waitFor();

    // The page's own record of when each line arrived, against the time the service wrote it (the same clock).
    await page.evaluate(`
      window.arrivals = [];
      new MutationObserver((changes) => {
        for (const change of changes) for (const li of change.addedNodes) {
          window.arrivals.push({ at: li.querySelector('time')?.dateTime ?? '', seen: Date.now(), text: li.textContent ?? '' });
        }
      }).observe(document.getElementById('live-log'), { childList: true });
    `);
    const trigger = (): Promise<Response> => fetch(`${service.url}/run`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    expect((await trigger()).status).toBe(200);
    // Each progress line of the run, as stderr has it, shows up within a second of its being written.
    const written = service.stderr().split('\n').filter((l) => / info (run started|pages? [\d-]+: fetched|run finished)/.test(l));
    expect(written.length).toBeGreaterThanOrEqual(3);
    const lastLine = written.at(-1) ?? '';
    const writtenAt = Date.parse(lastLine.split(' ')[0] ?? '');
    const message = lastLine.split(' ').slice(2).join(' ');
    await page.locator('#live-log li', { hasText: message }).waitFor({ timeout: 5_000 });
    const arrivals = (await page.evaluate('window.arrivals')) as { at: string; seen: number; text: string }[];
    expect(arrivals.length).toBeGreaterThanOrEqual(written.length);
    const slowest = Math.max(...arrivals.map((a) => a.seen - Date.parse(a.at)));
    expect(slowest).toBeLessThan(1_000);
    // The line shown is the one stderr has: written at the same moment (two clock reads, a millisecond or two apart).
    expect(Math.abs(Date.parse(arrivals.find((a) => a.text.includes(message))?.at ?? '') - writtenAt)).toBeLessThanOrEqual(5);
    const shown = await page.locator('#live-log').innerText();
    for (const line of written) expect(shown).toContain(line.split(' ').slice(2).join(' '));
    expect([ADMIN, papertrailToken, 'live-view-client-secret-0a1b2c3d'].filter((secret) => shown.includes(secret))).toEqual([]);

    // Signed out: the view is gone and nothing more is asked for, however many lines are written.
    await page.locator('#sign-out').click();
    await page.locator('#live-panel').waitFor({ state: 'hidden' });
    const asked = browser.requests.filter((u) => new URL(u).pathname === '/progress').length;
    tenant.append(150);
    expect((await trigger()).status).toBe(200);
    // A window longer than the view's reconnect delay (2 s), in which a view still following would ask again.
    await page.waitForTimeout(2_500);
    expect(browser.requests.filter((u) => new URL(u).pathname === '/progress').length).toBe(asked);
    expect(await page.locator('#live-log li').count()).toBe(0);
    expect(browser.errors).toEqual([]);
  });

  it('shows pages in doubt, with their range, while a range waits in the state to be shipped again', async () => {
    const tenant = await tenantWith({ count: 20 });
    const env = exportEnv(tenant, receiver);
    expect((await runCli(['run'], env)).code).toBe(0);
    // As a run whose take-back another run overtook leaves it: the range recorded in the state's own columns.
    const after = tenant.eventAt(5).log_id;
    const through = tenant.eventAt(15).log_id;
    const db = new Database(env.STORAGE_FILE);
    try {
      expect(db.prepare('UPDATE state SET reship_after = ?, reship_through = ? WHERE id = 1').run(after, through).changes).toBe(1);
    } finally {
      db.close();
    }
    const service = await startServe({ ...env, SCHEDULE: NEVER });
    cleanups.push(async () => {
      service.child.kill('SIGTERM');
      await service.done;
    });
    const browser = await launchBrowser();
    await browser.page.goto(`${service.url}/`);
    const card = browser.page.locator('[data-card="status"]');
    await card.locator('.card-value', { hasText: 'Pages in doubt' }).waitFor();
    expect(await card.locator('.card-sub').innerText()).toBe(`the pages after log ${after} through ${through} are shipped again by the next run`);
    expect(await browser.page.locator('#status').innerText()).toBe('Pages in doubt');
    expect(browser.errors).toEqual([]);
  });

  it('shows the log stream waiting until its first delivery, then receiving, with what all replicas and this one shipped', async () => {
    const tenant = await tenantWith({ count: 5 });
    const env = exportEnv(tenant, receiver);
    const service = await startServe({ ...env, SCHEDULE: NEVER, LOG_STREAM_TOKEN: STREAM_TOKEN });
    // A second replica on the same state, receiving its own share of the stream.
    const other = await startServe({ ...env, SCHEDULE: NEVER, LOG_STREAM_TOKEN: STREAM_TOKEN });
    cleanups.push(async () => {
      service.child.kill('SIGTERM');
      other.child.kill('SIGTERM');
      await Promise.all([service.done, other.done]);
    });
    const browser = await launchBrowser();
    await browser.page.goto(`${service.url}/`);
    const card = browser.page.locator('[data-card="log-stream"]');
    await card.locator('.card-value', { hasText: 'Waiting' }).waitFor();

    const events = [0, 1, 2].map((i) => tenant.eventAt(i));
    const answer = await fetch(`${service.url}/log-stream`, {
      method: 'POST',
      headers: { authorization: `Bearer ${STREAM_TOKEN}`, 'content-type': 'application/json' },
      body: encodeBatch(events.map(toStreamRecord), 'json-array'),
    });
    expect(answer.status).toBe(200);
    const toOther = await fetch(`${other.url}/log-stream`, {
      method: 'POST',
      headers: { authorization: `Bearer ${STREAM_TOKEN}`, 'content-type': 'application/json' },
      body: encodeBatch([3, 4].map((i) => toStreamRecord(tenant.eventAt(i))), 'json-array'),
    });
    expect(toOther.status).toBe(200);
    // The other replica writes its deliveries to the shared state shortly after answering them.
    await until('the other replica\'s deliveries in the shared state', async () => {
      const health = (await (await fetch(`${service.url}/health`)).json()) as { logStream?: { allReplicas?: { shipped: number } } };
      return health.logStream?.allReplicas?.shipped === 5;
    });
    await browser.page.reload();
    await card.locator('.card-value', { hasText: 'Receiving' }).waitFor();
    expect(await card.locator('.card-sub').innerText()).toMatch(/^last delivery .*; all replicas: 5 shipped, 0 filled in by the poller; this replica: 3 shipped, 0 filled in$/);
    expect(await browser.page.content()).not.toContain(STREAM_TOKEN);
    expect(browser.errors).toEqual([]);
  });

  it('lets an admin sign in, run now, pause, resume and reset the checkpoint after a confirmation, without a reload', async () => {
    const tenant = await tenantWith({ count: 150 });
    const env = exportEnv(tenant, receiver, { ADMIN_TOKEN: ADMIN, PII_FIELDS: 'email,ip', PII_METHOD: 'hash', PII_HASH_KEY: 'dashboard-pii-hash-key-0123456789', OMIT_FIELDS: 'location_info' });
    // A history of seven runs, the fourth failed.
    for (const [i, more] of [0, 60, 90, 0, 30, 120, 45].entries()) {
      tenant.append(more);
      if (i === 3) tenant.setFault('html');
      expect((await runCli(['run'], env)).code).toBe(i === 3 ? 1 : 0);
      tenant.setFault(null);
    }
    const service = await startServe({ ...env, SCHEDULE: NEVER });
    cleanups.push(async () => {
      service.child.kill('SIGTERM');
      await service.done;
    });
    const browser = await launchBrowser();
    const { page } = browser;
    await page.goto(`${service.url}/`);
    await page.evaluate('window.marker = 42');

    // A visitor sees /health, and that the history is for admins; not which personal data is hidden how.
    await until('the status', async () => (await page.locator('#status').innerText()) === 'Healthy');
    expect(await page.locator('#runs').innerText()).toMatch(/for administrators/);
    expect(await page.locator('#settings-panel').isHidden()).toBe(true);
    expect(await rows(page).count()).toBe(0);

    // A wrong token: a clear message, nothing kept.
    await signIn(page, 'not-the-admin-token-at-all-000000');
    await page.locator('#admin-message', { hasText: 'not accepted' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    // The right one: the history, the full error, the controls, and what leaves the tenant (never the key).
    await signIn(page, ADMIN);
    await page.locator('#run-now').waitFor();
    await page.locator('#settings-panel').waitFor();
    expect(await page.locator('#settings').innerText()).toMatch(/Personal data\s+email, ip: hashed[\s\S]*Omitted fields\s+location_info[\s\S]*Message format\s+json/);
    expect(await page.content()).not.toContain('dashboard-pii-hash-key');
    await until('the history', async () => (await rows(page).count()) === 7);
    expect(await page.locator('#chart .point').count()).toBe(7);
    await page.locator('tr.run-failed').getByRole('button', { name: 'Details' }).click();
    expect(await page.locator('.error-message').first().innerText()).toMatch(/Auth0 \/api\/v2\/logs answered 200 with a body that is not JSON \(text\/html/);

    // Run now: the new run shows without a reload.
    tenant.append(40);
    await page.locator('#run-now').click();
    await until('the new run', async () => (await rows(page).count()) === 8);
    expect(await cell(page, 0, 'exported')).toBe('40');
    await page.locator('#admin-message', { hasText: 'Run finished: 40 exported' }).waitFor();
    expect(await page.locator('#status').innerText()).toBe('Healthy');

    // Pause and resume change the status.
    await page.locator('#pause-toggle').click();
    await until('paused', async () => (await page.locator('#status').innerText()) === 'Paused');
    expect(stateOf(env.STORAGE_FILE).paused).toBe(true);
    expect(await page.locator('#pause-toggle').innerText()).toBe('Resume');
    expect(await page.locator('[data-card="next-run"] .card-value').innerText()).toBe('Paused');
    await page.locator('#run-now').click();
    await page.locator('#admin-message', { hasText: 'Runs are paused: resume first' }).waitFor();
    await page.locator('#pause-toggle').click();
    await until('resumed', async () => (await page.locator('#status').innerText()) === 'Healthy');
    expect(stateOf(env.STORAGE_FILE).paused).toBe(false);

    // Reset: choose, review (nothing changes yet), confirm; keyboard only.
    const before = stateOf(env.STORAGE_FILE).checkpoint;
    await page.locator('#reset-open').focus();
    await page.keyboard.press('Enter');
    await page.locator('#reset-to').fill(tenant.idAt(99));
    await page.locator('#reset-to').press('Enter');
    const confirmText = await page.locator('#reset-confirm-text').innerText();
    expect(confirmText).toContain(before ?? '');
    expect(confirmText).toContain(tenant.idAt(99));
    expect(stateOf(env.STORAGE_FILE).checkpoint).toBe(before);
    await page.keyboard.press('Enter'); // focus is on Confirm reset
    await until('the reset in the history', async () => (await rows(page).count()) === 9);
    expect(stateOf(env.STORAGE_FILE).checkpoint).toBe(tenant.idAt(99));
    expect(stateOf(env.STORAGE_FILE).runs.at(-1)?.trigger).toBe('reset');
    expect(await rows(page).nth(0).innerText()).toContain('Reset');

    // Cancelled reviews change nothing.
    await page.locator('#reset-open').click();
    await page.locator('#reset-choice-oldest').check();
    await page.locator('#reset-review').click();
    await page.locator('#reset-back').click();
    await page.locator('#reset-cancel').click();
    expect(stateOf(env.STORAGE_FILE).checkpoint).toBe(tenant.idAt(99));

    await screenshot(page, 'dashboard-admin', { width: 1280, height: 800 });
    await screenshot(page, 'dashboard-admin', { width: 390, height: 844 });

    // No reload happened; the token stayed in this tab's storage and headers only.
    expect(await page.evaluate('window.marker')).toBe(42);
    expect(browser.requests.filter((u) => u.includes(ADMIN))).toEqual([]);
    expect(await browser.context.cookies()).toEqual([]);
    expect(await page.content()).not.toContain(ADMIN);
    expect(service.stderr()).not.toContain(ADMIN);
    expectOnlyOwnRequests(browser.requests, service.url);
    expect(browser.errors).toEqual([]);

    await page.locator('#sign-out').click();
    await page.locator('#admin-token').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await until('the history to close', async () => (await rows(page).count()) === 0);
  });

  it('lets an admin check the setup, as the CLI\'s check does: a checklist, a fix under a failure, a test message on request, no secret', async () => {
    const tenant = await tenantWith({ count: 20 });
    const env = exportEnv(tenant, receiver, { ADMIN_TOKEN: ADMIN });
    const service = await startServe({ ...env, SCHEDULE: NEVER });
    cleanups.push(async () => {
      service.child.kill('SIGTERM');
      await service.done;
    });
    // Not for visitors.
    expect((await fetch(`${service.url}/check`, { method: 'POST' })).status).toBe(401);
    const browser = await launchBrowser();
    const { page } = browser;
    await page.goto(`${service.url}/`);
    await signIn(page, ADMIN);
    await page.locator('#check-setup').waitFor();
    const before = (await receiver.messages()).length;

    await page.locator('#check-send-test').check();
    await page.locator('#check-setup').click();
    await page.locator('#admin-message', { hasText: 'All checks passed' }).waitFor();
    const items = page.locator('#check-results li');
    expect(await items.allInnerTexts()).toEqual([
      expect.stringMatching(/^✓ settings valid: /),
      expect.stringMatching(/^✓ Auth0 reachable: /),
      expect.stringMatching(/^✓ Auth0 credentials accepted: /),
      expect.stringMatching(/^✓ read:logs granted: /),
      expect.stringMatching(/^✓ Papertrail host resolves: /),
      expect.stringMatching(/^✓ Papertrail TLS verified: /),
      expect.stringMatching(/^✓ test message confirmed: /),
      expect.stringMatching(/^✓ state store opens and is writable: /),
    ]);
    const received = (await receiver.messages()).slice(before);
    expect(received.map((m) => m.raw.includes('auth0-logs-to-papertrail check: test message'))).toEqual([true]);

    // Auth0 now refuses read:logs: the same view names it, with its fix, and exports nothing.
    tenant.setFault('forbidden');
    await page.locator('#check-send-test').uncheck();
    await page.locator('#check-setup').click();
    await page.locator('#admin-message', { hasText: 'A check failed' }).waitFor();
    const failed = page.locator('#check-results li.check-failed');
    expect(await failed.count()).toBe(1);
    expect(await failed.innerText()).toMatch(/^✗ read:logs granted: .*403[\s\S]*To fix: .*grant the read:logs scope/);
    expect(await page.locator('#check-results li.check-skipped').innerText()).toMatch(/test message confirmed: not sent/);
    expect((await receiver.messages()).length).toBe(before + 1);
    expect(await page.content()).not.toContain(tenant.clientSecret);
    expect(browser.errors).toEqual([]);
  });

  it('shows errors and events that hold markup as text: nothing executes, nothing is injected', async () => {
    const start = Date.now() - 600_000;
    const hostile = '<img src=x onerror=alert(1)>';
    const events: TenantEvent[] = Array.from({ length: 60 }, (_, i) => ({
      log_id: makeLogId(new Date(start + i * 1000), i),
      // First, so that it is inside the excerpt of the body an error message quotes.
      description: i === 0 ? hostile : `<script>alert(${i})</script>`,
      date: new Date(start + i * 1000).toISOString(),
      type: 's',
      user_name: '"><svg onload=alert(2)>',
    }));
    const tenant = await tenantWith({ events });
    const env = exportEnv(tenant, receiver, { ADMIN_TOKEN: ADMIN });
    tenant.setFault('missing-log-id');
    expect((await runCli(['run'], env)).code).toBe(1);
    tenant.setFault('html');
    expect((await runCli(['run'], env)).code).toBe(1);
    tenant.setFault(null);
    expect((await runCli(['run'], env)).code).toBe(0);
    await receiver.waitForCount(60, 10_000);
    const runs = stateOf(env.STORAGE_FILE).runs;
    // The test means something only if the markup really is in the stored errors.
    expect(runs[0]?.error?.message).toContain(hostile);
    expect(runs[1]?.error?.message).toContain('<!DOCTYPE html>');

    const service = await startServe({ ...env, SCHEDULE: NEVER });
    cleanups.push(async () => {
      service.child.kill('SIGTERM');
      await service.done;
    });
    const browser = await launchBrowser();
    const { page } = browser;
    await page.goto(`${service.url}/`);
    await signIn(page, ADMIN);
    await until('the history', async () => (await rows(page).count()) === 3);
    const details = page.getByRole('button', { name: 'Details' });
    expect(await details.count()).toBe(2);
    // Each opened one is renamed Hide, so always open the first left.
    while ((await details.count()) > 0) await details.first().click();
    const messages = await page.locator('.error-message').allInnerTexts();
    expect(messages.join('\n')).toContain(hostile);
    expect(messages.join('\n')).toContain('<h1>Please wait');
    await page.waitForTimeout(500);

    expect(browser.dialogs).toEqual([]);
    expect(browser.errors).toEqual([]);
    expect(await page.locator('img, iframe, object, embed, svg[onload]').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('main h1').count()).toBe(0);
    expectOnlyOwnRequests(browser.requests, service.url);
    expect(browser.requests.some((u) => new URL(u).pathname === '/x')).toBe(false);
  });
});

describe('the dashboard (extension under webtask-runtime)', () => {
  it('opens at the extension URL prefix and its controls work there', async () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'webtask.json'), 'utf8')) as { initialUrlPath?: string };
    expect(manifest.initialUrlPath).toBe('/');

    const tenant = await tenantWith({ count: 120 });
    const { NODE_EXTRA_CA_CERTS: _ca, STORAGE_FILE: _file, ...secrets } = exportEnv(tenant, receiver, { ADMIN_TOKEN: ADMIN });
    const host = await startWebtaskHost(secrets, { caFile: pki.server.caFile, prefix: { container: 'example-tenant', name: 'auth0-logs-to-papertrail' } });
    cleanups.push(() => host.close());
    expect(host.url).toMatch(/\/api\/run\/example-tenant\/auth0-logs-to-papertrail$/);

    const browser = await launchBrowser();
    const { page } = browser;
    // The platform links to the prefix without a slash; the page needs one for its relative URLs.
    await page.goto(host.url);
    expect(page.url()).toBe(`${host.url}/`);
    await until('the status', async () => (await page.locator('#status').innerText()) === 'Idle');
    expect(await page.locator('[data-card="next-run"]').count()).toBe(0);

    await signIn(page, ADMIN);
    await page.locator('#run-now').waitFor();
    expect(await page.locator('#runs').innerText()).toMatch(/No runs yet/);
    await page.locator('#run-now').click();
    await until('the run', async () => (await rows(page).count()) === 1);
    expect(await cell(page, 0, 'exported')).toBe('120');
    expect(await page.locator('#chart .point').count()).toBe(1);
    expect(await page.locator('#status').innerText()).toBe('Healthy');
    await page.locator('#pause-toggle').click();
    await until('paused', async () => (await page.locator('#status').innerText()) === 'Paused');
    await page.locator('#pause-toggle').click();
    await until('resumed', async () => (await page.locator('#status').innerText()) === 'Healthy');

    const paths = browser.requests.map((u) => new URL(u).pathname);
    expectOnlyOwnRequests(browser.requests, host.url);
    expect(paths.filter((p) => !p.startsWith('/api/run/example-tenant/auth0-logs-to-papertrail'))).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['/api/run/example-tenant/auth0-logs-to-papertrail/dashboard.js', '/api/run/example-tenant/auth0-logs-to-papertrail/run', '/api/run/example-tenant/auth0-logs-to-papertrail/pause']));
    expect(browser.errors).toEqual([]);
    await screenshot(page, 'dashboard-extension', { width: 1280, height: 800 });
  });

  it('still opens when the settings are invalid, and names the settings to fix', async () => {
    const tenant = await tenantWith({ count: 1 });
    const { NODE_EXTRA_CA_CERTS: _ca, STORAGE_FILE: _file, ...secrets } = exportEnv(tenant, receiver, { BATCH_SIZE: '1000', ADMIN_TOKEN: ADMIN });
    const host = await startWebtaskHost(secrets, { caFile: pki.server.caFile });
    cleanups.push(() => host.close());
    const browser = await launchBrowser({ width: 390, height: 844 });
    await browser.page.goto(`${host.url}/`);
    await browser.page.locator('#notice', { hasText: 'The settings are invalid: BATCH_SIZE' }).waitFor();
    // The notice is shown as soon as /health answers; the status is drawn after /runs has answered too.
    await browser.page.locator('#status', { hasText: 'Unknown' }).waitFor({ timeout: 10_000 });
    expect(await browser.page.locator('#status').innerText()).toBe('Unknown');
    expect(tenant.stats().tokenRequests).toBe(0);
  });
});
