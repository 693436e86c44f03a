/**
 * The stream's whole life, end to end, with real processes: the simulated
 * tenant sends its Custom Webhook stream into `serve` (follow mode, so the
 * poller runs too), a real rsyslogd is Papertrail, Slack is the HTTPS
 * stand-in. Papertrail stops long enough for the tenant to pause and then
 * suspend the stream, then comes back. `serve` watches the stream's status in
 * Auth0 every second: one alert when it left active, one when it is active
 * again; with LOG_STREAM_AUTO_RESUME it resumes the stream itself, without it
 * the stream stays suspended and only the first alert is sent. Either way
 * every event reaches Papertrail exactly once, and no secret shows anywhere.
 */
import { request } from 'node:https';
import { closeAllBrowsers, launchBrowser } from '../support/browser';
import { createTestPki } from '../support/certs';
import { killAllClis } from '../support/cli';
import { checkDelivery } from '../support/delivery';
import { exportEnv } from '../support/export-env';
import type { TenantEvent } from '../support/events';
import { ALL_LOG_STREAM_SCOPES, startFakeTenant, type FakeTenant } from '../support/fake-tenant';
import { parsePrometheusText, total } from '../support/prometheus-text';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import { startServe, until, type Service } from '../support/serve';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in';

const pki = createTestPki();
const SECRETS = {
  clientSecret: 'lifecycle-client-secret-5e6f7a8b',
  admin: 'lifecycle-admin-token-0123456789abcd',
  stream: 'lifecycle-stream-token-a1b2c3d4e5f6',
};
let receiver: RsyslogReceiver;
let slack: SlackStandIn;
let tenant: FakeTenant;

beforeEach(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
  slack = await startSlackStandIn(pki.server);
  tenant = await startFakeTenant({
    count: 0, start: new Date(Date.now() - 600_000), clientSecret: SECRETS.clientSecret, scopes: ALL_LOG_STREAM_SCOPES,
    cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile,
    // Auth0 takes days; the simulation seconds, so the whole episode fits in a test.
    streamDelivery: { pauseAfterMs: 1_500, suspendAfterMs: 3_500, retryMs: 100, maxBatch: 10 },
  });
});
afterEach(async () => {
  await closeAllBrowsers();
  killAllClis();
  await tenant.stop();
  await slack.stop();
  await stopAllReceivers();
});

/** Creates the stream through the tenant's Management API, as `stream setup` would for a public host. */
async function createStream(endpoint: string): Promise<string> {
  const call = (method: string, path: string, body: unknown, bearer?: string): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (bearer) headers['authorization'] = `Bearer ${bearer}`;
    const req = request(`${tenant.url}${path}`, { method, ca: tenant.ca, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  const { access_token: bearer } = await call('POST', '/oauth/token', { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: SECRETS.clientSecret, audience: tenant.audience });
  const stream = await call('POST', '/api/v2/log-streams', {
    name: 'auth0-logs-to-papertrail', type: 'http',
    sink: { httpEndpoint: endpoint, httpContentType: 'application/json', httpContentFormat: 'JSONARRAY', httpAuthorization: `Bearer ${SECRETS.stream}` },
  }, String(bearer));
  return String(stream['id']);
}

interface Auth0View { status: string; checkedAt: string | null; autoResume: { resumes: number; lastResumedAt: string | null } }
interface Health { status: string; logStream?: { records: number; auth0?: Auth0View } }

async function health(service: Service): Promise<Health> {
  return (await (await fetch(`${service.url}/health`)).json()) as Health;
}

const events = (): TenantEvent[] => Array.from({ length: tenant.size() }, (_, i) => tenant.eventAt(i));
const leftActive = (): string[] => slack.bodies.filter((b) => /Log stream (paused|suspended)/.test(b.text)).map((b) => b.text);
const activeAgain = (): string[] => slack.bodies.filter((b) => /Log stream active again/.test(b.text)).map((b) => b.text);

async function episode(autoResume: boolean): Promise<{ service: Service; streamId: string }> {
  const service = await startServe(exportEnv(tenant, receiver, {
    ADMIN_TOKEN: SECRETS.admin, LOG_STREAM_TOKEN: SECRETS.stream, SLACK_INCOMING_WEBHOOK_URL: slack.url,
    SCHEDULE: 'continuous', POLL_INTERVAL_SECONDS: '1', LOG_STREAM_STATUS_SECONDS: '1', LOG_STREAM_AUTO_RESUME: String(autoResume),
  }));
  const streamId = await createStream(`${service.url}/log-stream`);

  // 1. The stream flows into serve.
  tenant.append(40);
  await receiver.waitForCount(40, 30_000);
  // Shipped by the stream, or skipped because the poller got there first: either way delivered into serve.
  await until('the stream to deliver into serve', async () => ((await health(service)).logStream?.records ?? 0) >= 40);
  await until('serve to read the stream as active', async () => (await health(service)).logStream?.auth0?.status === 'active');

  // 2. Papertrail goes away, with nothing in flight; the tenant keeps logging until it has suspended the stream.
  await receiver.stop();
  const appending = setInterval(() => tenant.append(5), 400);
  try {
    await until('the tenant to suspend the stream', () => tenant.logStreams()[0]?.status === 'suspended', 30_000);
  } finally {
    clearInterval(appending);
  }
  await until('serve to see it suspended', async () => (await health(service)).logStream?.auth0?.status === 'suspended');
  await until('the alert that it left active', () => leftActive().length === 1);
  expect((await health(service)).status).toBe('failing');

  // 3. Papertrail is back; the tenant logs a little more.
  await receiver.restart();
  tenant.append(20);
  return { service, streamId };
}

describe('the log stream paused and suspended by Auth0, seen and healed by serve', () => {
  it('with LOG_STREAM_AUTO_RESUME: one alert when it left active, resumed once Papertrail confirms, one alert when active again, every event once', async () => {
    const { service, streamId } = await episode(true);
    await until('the stream active again in the tenant', () => tenant.logStreams()[0]?.status === 'active', 40_000);
    await until('the alert that it is active again', () => activeAgain().length === 1, 20_000);
    const history = tenant.streamDeliveries(streamId).statusHistory.map((h) => `${h.status}/${h.by}`);
    expect(history).toEqual(['active/api', 'paused/tenant', 'suspended/tenant', 'active/api']);
    // Everything: what the poller filled in and what Auth0 had queued, which the record of shipped ids skips.
    await until('every event at Papertrail', async () => checkDelivery(events(), await receiver.messages()).missing === 0, 40_000);
    await until('the queued events redelivered', () => tenant.streamDeliveries(streamId).records >= tenant.size(), 30_000);
    const figures = checkDelivery(events(), await receiver.messages());
    expect({ missing: figures.missing, duplicates: figures.duplicates, malformed: figures.malformed }).toEqual({ missing: 0, duplicates: 0, malformed: 0 });

    const healthNow = await health(service);
    const view = healthNow.logStream?.auth0;
    expect(view).toMatchObject({ status: 'active', autoResume: { enabled: true, resumes: 1, lastResumedAt: expect.any(String) } });
    expect(leftActive()).toHaveLength(1);
    expect(leftActive()[0]).toMatch(/Log stream (paused|suspended)/);
    expect(activeAgain()[0]).toContain('this service resumed it');
    const patches = tenant.logStreamRequests().filter((r) => r.method === 'PATCH');
    expect(patches).toEqual([{ method: 'PATCH', path: `/api/v2/log-streams/${streamId}`, status: 200 }]);

    const metrics = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${SECRETS.admin}` } })).text();
    const m = parsePrometheusText(metrics);
    expect(total(m, 'auth0_papertrail_stream_status', { status: 'active' })).toBe(1);
    expect(total(m, 'auth0_papertrail_stream_status', { status: 'suspended' })).toBe(0);
    expect(total(m, 'auth0_papertrail_stream_auto_resumes_total')).toBe(1);
    // The watch's requests count with the poller's, as the tenant answered them.
    const readings = tenant.logStreamRequests().filter((r) => r.method === 'GET' && r.status === 200).length;
    expect(total(m, 'auth0_papertrail_auth0_requests_total', { endpoint: 'log-streams', status: '200' })).toBeGreaterThanOrEqual(readings);
    service.child.kill('SIGTERM');
    await service.done;
    const outputs = [service.stderr(), metrics, JSON.stringify(healthNow), JSON.stringify(await receiver.messages()), ...slack.raw];
    for (const secret of [...Object.values(SECRETS), slack.url]) for (const text of outputs) expect(text).not.toContain(secret);
  }, 180_000);

  it('without it: the alert only, the stream left suspended, and the poller still delivers every event once', async () => {
    const { service, streamId } = await episode(false);
    await until('every event at Papertrail', async () => checkDelivery(events(), await receiver.messages()).missing === 0, 40_000);
    // Several more readings of the status: still suspended, no second alert, no PATCH.
    const readingsBefore = tenant.logStreamRequests().length;
    await until('three more readings', () => tenant.logStreamRequests().length >= readingsBefore + 3, 20_000);
    expect(tenant.logStreams()[0]?.status).toBe('suspended');
    expect(tenant.streamDeliveries(streamId).statusHistory.map((h) => h.status)).toEqual(['active', 'paused', 'suspended']);
    expect(tenant.logStreamRequests().filter((r) => r.method !== 'GET' && r.path.includes(streamId))).toEqual([]);
    expect(leftActive()).toHaveLength(1);
    expect(leftActive()[0]).toContain('LOG_STREAM_AUTO_RESUME=true');
    expect(activeAgain()).toHaveLength(0);
    expect((await health(service)).logStream?.auth0).toMatchObject({ status: 'suspended', autoResume: { enabled: false, resumes: 0 } });
    // The dashboard's stream card says so, as a failing card.
    const browser = await launchBrowser();
    await browser.page.goto(`${service.url}/`);
    const card = browser.page.locator('[data-card="log-stream"]');
    await card.locator('.card-value', { hasText: 'Suspended in Auth0' }).waitFor();
    expect(await card.getAttribute('class')).toContain('card-failing');
    expect(await card.locator('[data-auth0-status="suspended"]').innerText()).toMatch(/^Auth0: suspended, read .*; stopped .*; resume it in the Auth0 Dashboard$/);
    const page = await browser.page.content();
    for (const secret of Object.values(SECRETS)) expect(page).not.toContain(secret);
    expect(browser.errors).toEqual([]);
    const figures = checkDelivery(events(), await receiver.messages());
    expect({ missing: figures.missing, duplicates: figures.duplicates }).toEqual({ missing: 0, duplicates: 0 });
    service.child.kill('SIGTERM');
    await service.done;
    for (const secret of Object.values(SECRETS)) for (const text of [service.stderr(), ...slack.raw]) expect(text).not.toContain(secret);
  }, 180_000);
});
