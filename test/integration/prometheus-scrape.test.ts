/**
 * A real Prometheus (Debian's 2.x) scraping a real `serve` every second, with
 * the README's scrape settings (a METRICS_TOKEN) and the README's alert
 * rules as they are. What it stores must be what happened, counted by the
 * simulated tenant and the test's own log-stream sender: each log count on
 * each path (truncated included), Auth0 requests (an abandoned fetch-ahead
 * included), stream requests; and the README's rules must fire on a live
 * outage: a failed run at once, and a 60-second Papertrail outage in
 * stream-only mode (no run at all) through PapertrailDeliveryFailing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestPki } from '../support/certs';
import { killAllClis } from '../support/cli';
import type { TenantEvent } from '../support/events';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant } from '../support/fake-tenant';
import { encodeBatch, toStreamRecord } from '../support/log-stream-sender';
import { startPrometheus, type Prometheus } from '../support/prometheus';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import { startServe, until, type Service } from '../support/serve';

const pki = createTestPki();
const SECRETS = {
  clientSecret: 'promscrape-client-secret-5e6f7a8b',
  admin: 'promscrape-admin-token-0123456789abcdef',
  metrics: 'promscrape-metrics-token-fedcba9876543210',
  papertrail: 'promscrape-papertrail-token-2b3c4d5e',
  stream: 'promscrape-stream-token-c3d4e5f6a7b8',
};
const NEVER = '0 0 1 1 *';
/** The README's rules, loaded as a user would (the README's block is this file, see alert-rules.test.ts). */
const README_RULES = readFileSync(join(__dirname, '..', '..', 'docs', 'prometheus', 'alert-rules.yml'), 'utf8');
/** LOG_TYPES for these tests: the README's meaning is "only these types". */
const TYPES = ['s', 'f', 'fp', 'fu', 'sapi'];
/** Papertrail's limit on a message (README): anything longer is shipped cut down. */
const MAX_FRAME_BYTES = 100_000;

let receiver: RsyslogReceiver;
let prometheus: Prometheus | undefined;
const tenants: FakeTenant[] = [];

beforeEach(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
});
afterEach(async () => {
  await prometheus?.stop();
  prometheus = undefined;
  killAllClis();
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
  await stopAllReceivers();
});

async function tenantWith(count: number, hugeEvery?: number): Promise<FakeTenant> {
  const tenant = await startFakeTenant({
    count, ...(hugeEvery === undefined ? {} : { hugeEvery }), start: new Date(Date.now() - 3_600_000), clientSecret: SECRETS.clientSecret,
    cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile,
  });
  tenants.push(tenant);
  return tenant;
}

async function post(service: Service, events: readonly TenantEvent[]): Promise<number> {
  const res = await fetch(`${service.url}/log-stream`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.stream}` }, body: encodeBatch(events.map(toStreamRecord), 'json-array'),
  });
  await res.arrayBuffer();
  return res.status;
}

async function run(service: Service): Promise<number> {
  const res = await fetch(`${service.url}/run`, { method: 'POST', headers: { authorization: `Bearer ${SECRETS.admin}` } });
  await res.arrayBuffer();
  return res.status;
}

async function scrapedBy(service: Service): Promise<Prometheus> {
  prometheus = await startPrometheus({ target: new URL(service.url).host, token: SECRETS.metrics, rules: README_RULES });
  return prometheus;
}

/** The sum of an instant query's vector (0 when empty). */
async function value(p: Prometheus, expr: string): Promise<number> {
  return (await p.query(expr)).reduce((sum, r) => sum + r.value, 0);
}

const firing = async (p: Prometheus, name: string): Promise<boolean> => (await p.alerts()).some((a) => a.labels['alertname'] === name && a.state === 'firing');

const passes = (e: TenantEvent): boolean => TYPES.includes(String(e['type']));
const huge = (e: TenantEvent): boolean => JSON.stringify(e).length > MAX_FRAME_BYTES;
const countOf = (events: readonly TenantEvent[], test: (e: TenantEvent) => boolean): number => events.filter(test).length;

describe('Prometheus scraping serve', () => {
  it('stores, on each path, exactly what the tenant served and the stream sent; a failed run fires Auth0LogExportFailing', async () => {
    const tenant = await tenantWith(600, 25);
    const events = Array.from({ length: tenant.size() }, (_, i) => tenant.eventAt(i));
    const streamed = events.slice(0, 300);
    const pollerOnly = events.slice(300);
    // The figures below are only a test if every kind of count occurs on both paths.
    for (const part of [streamed, pollerOnly]) {
      expect(countOf(part, (e) => !passes(e))).toBeGreaterThan(0);
      expect(countOf(part, (e) => passes(e) && huge(e))).toBeGreaterThan(0);
    }
    const service = await startServe(exportEnv(tenant, receiver, {
      SCHEDULE: NEVER, LOG_TYPES: TYPES.join(','), ADMIN_TOKEN: SECRETS.admin, METRICS_TOKEN: SECRETS.metrics,
      PAPERTRAIL_TOKEN: SECRETS.papertrail, LOG_STREAM_TOKEN: SECRETS.stream,
    }));
    const p = await scrapedBy(service);

    // The stream delivers the first 300 events in three requests, then Auth0 redelivers what was shipped of the first.
    for (let i = 0; i < 300; i += 100) expect(await post(service, streamed.slice(i, i + 100))).toBe(200);
    const redelivered = streamed.slice(0, 100).filter(passes);
    expect(await post(service, redelivered)).toBe(200);
    // The poller reads all 600 and fills in what the stream did not send.
    expect(await run(service)).toBe(200);
    const delivered = await receiver.waitForCount(countOf(events, passes));

    const since = Date.now();
    await p.scrapedAfter(since);
    const stats = tenant.stats();
    const got = async (metric: string, path: 'poller' | 'stream'): Promise<number> => value(p, `auth0_papertrail_${metric}{path="${path}"}`);
    const figures = {
      stream: {
        fetched: await got('logs_fetched_total', 'stream'), exported: await got('logs_exported_total', 'stream'),
        filteredOut: await got('logs_filtered_out_total', 'stream'), truncated: await got('logs_truncated_total', 'stream'),
        alreadyShipped: await got('logs_already_shipped_total', 'stream'),
      },
      poller: {
        fetched: await got('logs_fetched_total', 'poller'), exported: await got('logs_exported_total', 'poller'),
        filteredOut: await got('logs_filtered_out_total', 'poller'), truncated: await got('logs_truncated_total', 'poller'),
        alreadyShipped: await got('logs_already_shipped_total', 'poller'),
      },
    };
    expect(figures).toEqual({
      // What the sender posted in requests answered 200, and what of it LOG_TYPES lets through.
      stream: {
        fetched: streamed.length + redelivered.length, exported: countOf(streamed, passes), filteredOut: countOf(streamed, (e) => !passes(e)),
        truncated: countOf(streamed, (e) => passes(e) && huge(e)), alreadyShipped: redelivered.length,
      },
      // What the tenant served; the README: the poller filters, then skips what the stream shipped.
      poller: {
        fetched: stats.served, exported: countOf(pollerOnly, passes), filteredOut: countOf(events, (e) => !passes(e)),
        truncated: countOf(pollerOnly, (e) => passes(e) && huge(e)), alreadyShipped: countOf(streamed, passes),
      },
    });
    expect(stats.served).toBe(events.length);
    // And what Papertrail got: every exported line once, the cut-down ones marked.
    expect(await value(p, 'sum(auth0_papertrail_logs_exported_total)')).toBe(delivered.length);
    expect(await value(p, 'sum(auth0_papertrail_logs_truncated_total)')).toBe(delivered.filter((m) => m.raw.includes('"_truncated"')).length);
    expect(await value(p, 'auth0_papertrail_stream_requests_total{status="200"}')).toBe(4);
    expect(await value(p, 'sum(auth0_papertrail_stream_requests_total)')).toBe(4);
    expect(await value(p, 'auth0_papertrail_runs_total{status="ok",trigger="manual"}')).toBe(1);
    expect(await value(p, 'sum(auth0_papertrail_auth0_requests_total{endpoint="logs"})')).toBe(stats.logsRequests);
    expect(await value(p, 'sum(auth0_papertrail_auth0_requests_total{endpoint="token"})')).toBe(stats.tokenRequests);
    for (const [status, count] of Object.entries(stats.logsResponses)) {
      expect({ status, count: await value(p, `auth0_papertrail_auth0_requests_total{endpoint="logs",status="${status}"}`) }).toEqual({ status, count });
    }
    expect(await firing(p, 'Auth0LogExportFailing')).toBe(false);

    // Papertrail gone while 350 new logs wait: the run fails on its first shipment, abandoning any page it was fetching ahead.
    await receiver.stop();
    tenant.append(350);
    expect(await run(service)).toBe(502);
    await until('Auth0LogExportFailing to fire', () => firing(p, 'Auth0LogExportFailing'), 30_000);
    const after = Date.now();
    await p.scrapedAfter(after);
    const later = tenant.stats();
    expect(later.logsRequests).toBeGreaterThan(stats.logsRequests + 1);
    // Every request the tenant received is counted (one abandoned with its answer unread counts as status 0).
    expect(await value(p, 'sum(auth0_papertrail_auth0_requests_total{endpoint="logs"})')).toBe(later.logsRequests);
    expect(await value(p, 'auth0_papertrail_runs_total{status="failed",trigger="manual"}')).toBe(1);
    // Nothing of the failed run counts as exported.
    expect(await value(p, 'sum(auth0_papertrail_logs_exported_total)')).toBe(delivered.length);

    const secrets = Object.values(SECRETS);
    const stored = JSON.stringify(await p.query('{job="auth0-logs-to-papertrail"}'));
    expect(secrets.filter((s) => stored.includes(s) || service.stderr().includes(s))).toEqual([]);
    service.child.kill('SIGTERM');
    await service.done;
  }, 180_000);

  it('fires PapertrailDeliveryFailing during a 60-second Papertrail outage in stream-only mode, and ends it once a delivery is confirmed', async () => {
    const tenant = await tenantWith(400);
    const events = Array.from({ length: tenant.size() }, (_, i) => tenant.eventAt(i));
    const service = await startServe(exportEnv(tenant, receiver, {
      SCHEDULE: NEVER, LOG_STREAM_ONLY: 'true', ADMIN_TOKEN: SECRETS.admin, METRICS_TOKEN: SECRETS.metrics,
      PAPERTRAIL_TOKEN: SECRETS.papertrail, LOG_STREAM_TOKEN: SECRETS.stream,
    }));
    const p = await scrapedBy(service);
    expect(await post(service, events.slice(0, 50))).toBe(200);
    await p.scrapedAfter(Date.now());

    await receiver.stop();
    const outageStarted = Date.now();
    let next = 50;
    let firedAfterMs: number | null = null;
    // Auth0 keeps sending (new batches and retries); every one is refused with 503 while Papertrail is down.
    while (Date.now() - outageStarted < 60_000) {
      expect(await post(service, events.slice(next, next + 10))).toBe(503);
      next += 10;
      if (firedAfterMs === null && (await firing(p, 'PapertrailDeliveryFailing'))) firedAfterMs = Date.now() - outageStarted;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    // No run fails in stream-only mode: the run rule cannot see this outage.
    expect(await firing(p, 'Auth0LogExportFailing')).toBe(false);
    expect(firedAfterMs).not.toBeNull();
    // The README's `for: 30s`, a scrape and an evaluation (1 s each here) and the 2-second pace of the sends.
    expect(firedAfterMs).toBeLessThan(40_000);
    expect(await value(p, 'sum(auth0_papertrail_stream_requests_total{status="503"})')).toBe((next - 50) / 10);

    await receiver.restart();
    expect(await post(service, events.slice(50, next))).toBe(200);
    await until('PapertrailDeliveryFailing to end', async () => !(await firing(p, 'PapertrailDeliveryFailing')), 30_000);
    service.child.kill('SIGTERM');
    await service.done;
  }, 180_000);
});
