/**
 * The built CLI end to end: a simulated Auth0 tenant over HTTPS, and a real
 * rsyslogd TLS receiver standing in for Papertrail.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTestPki } from '../support/certs';
import { killAllClis, runCli, startCli } from '../support/cli';
import { checkDelivery } from '../support/delivery';
import type { TenantEvent } from '../support/events';
import { exportEnv } from '../support/export-env';
import { readStoredState } from '../support/stored-state';
import type { StateDocument } from '../../src/storage/state';
import { startFakeTenant, type FakeTenant, type FakeTenantOptions } from '../support/fake-tenant';
import { startNoisyNeighbour } from '../support/neighbour';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';

/** README's settings table: PAGES_PER_SHIPMENT defaults to 10 (a crash re-ships at most one shipment of up to 10 pages). */
const DEFAULT_PAGES_PER_SHIPMENT = 10;

const pki = createTestPki();
/** A Papertrail ingestion token: with "@41058", longer than RFC 5424's 32-character SD-NAME. */
const TOKEN = '385612-CLIEXPORTTOKEN_zxcvbnmlkjhgf';
const tenants: FakeTenant[] = [];
// Recent events: the first run starts at the oldest log retained, 31 days back at most.
const recent = (): Date => new Date(Date.now() - 2 * 24 * 3600 * 1000);

async function tenantWith(options: FakeTenantOptions): Promise<FakeTenant> {
  const tenant = await startFakeTenant({ start: recent(), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile, ...options });
  tenants.push(tenant);
  return tenant;
}

function eventsOf(tenant: FakeTenant): TenantEvent[] {
  return Array.from({ length: tenant.size() }, (_, i) => tenant.eventAt(i));
}

function stateOf(file: string): StateDocument {
  return readStoredState(file);
}

let receiver: RsyslogReceiver;
beforeAll(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
});
afterEach(async () => {
  killAllClis();
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
});
afterAll(async () => {
  await stopAllReceivers();
});

/** Messages received since `before`, i.e. by this test. */
async function receivedSince(before: number) {
  return (await receiver.messages()).slice(before);
}

describe('auth0-logs-to-papertrail run', () => {
  it('exports 10,000 events, hostile and oversized ones included, each exactly once and in order, with every field intact and the Papertrail token element on every frame, and keeps the token out of every output and file', async () => {
    const tenant = await tenantWith({ count: 10_000, hostileEvery: 37, hugeEvery: 2_500 });
    const before = (await receiver.messages()).length;
    const env = exportEnv(tenant, receiver, { PAPERTRAIL_TOKEN: TOKEN });
    const result = await runCli(['run'], env);
    expect(result.stderr).toMatch(/run finished: 10000 exported/);
    expect(result.code).toBe(0);
    expect(result.report).toMatchObject({ status: 'ok', fetched: 10_000, exported: 10_000, filteredOut: 0, pages: 100, stoppedBy: 'caught-up', truncated: 4 });

    const received = await receivedSince(before);
    const figures = checkDelivery(eventsOf(tenant), received, { token: TOKEN });
    expect(figures).toMatchObject({ expected: 10_000, delivered: 10_000, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0, truncated: 4, expectedStructuredData: 10_000 });
    expect(figures.problems).toEqual([]);
    expect(figures.largestFrameBytes).toBeLessThanOrEqual(100_000);
    expect(stateOf(env.STORAGE_FILE).checkpoint).toBe(tenant.lastId());
    // Everything the run printed, reported or left beside its state: no token.
    const files = readdirSync(dirname(env.STORAGE_FILE)).map((name) => join(dirname(env.STORAGE_FILE), name));
    expect(files).toContain(env.STORAGE_FILE);
    for (const text of [result.stdout, result.stderr, ...files.map((f) => readFileSync(f, 'utf8'))]) expect(text).not.toContain(TOKEN);
  });

  it('starts from the oldest retained log without losing or repeating events whose dates are out of log_id order', async () => {
    const tenant = await tenantWith({ count: 450, dateJitterMs: 2_000 });
    const events = eventsOf(tenant);
    // The premise: event dates really are out of log_id order.
    const inversions = events.filter((e, i) => i > 0 && Date.parse(String(e.date)) < Date.parse(String(events[i - 1]?.date))).length;
    expect(inversions).toBeGreaterThan(10);
    const before = (await receiver.messages()).length;
    const result = await runCli(['run'], exportEnv(tenant, receiver, { BATCH_SIZE: '100' }));
    expect(result.code).toBe(0);
    expect(result.report).toMatchObject({ startSource: 'oldest-retained' });
    const figures = checkDelivery(events, await receivedSince(before));
    expect(figures).toMatchObject({ delivered: 450, missing: 0, duplicates: 0, outOfOrder: 0 });
  });

  it('continues where it stopped: a second run ships only what is new', async () => {
    const tenant = await tenantWith({ count: 300 });
    const env = exportEnv(tenant, receiver);
    const before = (await receiver.messages()).length;
    expect((await runCli(['run'], env)).code).toBe(0);
    tenant.append(120);
    const second = await runCli(['run'], env);
    expect(second.report).toMatchObject({ status: 'ok', startSource: 'checkpoint', fetched: 120, exported: 120 });
    const third = await runCli(['run'], env);
    expect(third.report).toMatchObject({ status: 'ok', fetched: 0, pages: 0 });
    const figures = checkDelivery(eventsOf(tenant), await receivedSince(before));
    expect(figures).toMatchObject({ delivered: 420, missing: 0, duplicates: 0 });
    expect(stateOf(env.STORAGE_FILE).runs.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('exports only what LOG_LEVEL and LOG_TYPES select, and still advances over the rest', async () => {
    const tenant = await tenantWith({ count: 2_000 });
    const env = exportEnv(tenant, receiver, { LOG_LEVEL: 'error', LOG_TYPES: 's,pla' });
    const before = (await receiver.messages()).length;
    const result = await runCli(['run'], env);
    // Written from the README's filtering rules and Auth0's type table, for the types the tenant generates:
    // listed (s, pla), at error or above (f, fp, fu at 3; limit_wc at 4), or unknown to every table (zz_…).
    const selected = new Set(['s', 'pla', 'f', 'fp', 'fu', 'limit_wc', 'zz_new_type', 'zz_preview_feature_event']);
    const left = new Set(['ssa', 'seacft', 'sapi', 'w', 'sepft', 'slo', 'api_limit_warning', 'gd_send_sms']);
    expect(eventsOf(tenant).filter((e) => !selected.has(String(e.type)) && !left.has(String(e.type)))).toEqual([]);
    const wanted = eventsOf(tenant).filter((e) => selected.has(String(e.type)));
    expect(wanted.length).toBeGreaterThan(100);
    expect(wanted.length).toBeLessThan(2_000);
    expect(result.report).toMatchObject({ status: 'ok', fetched: 2_000, exported: wanted.length, filteredOut: 2_000 - wanted.length });
    const figures = checkDelivery(wanted, await receivedSince(before));
    expect(figures).toMatchObject({ delivered: wanted.length, missing: 0, duplicates: 0, malformed: 0 });
    expect(stateOf(env.STORAGE_FILE).checkpoint).toBe(tenant.lastId());
  });

  it('completes with nothing lost against a tenant that answers 429 and 5xx part of the time, with short-lived tokens', async () => {
    const tenant = await tenantWith({ count: 3_000, failureRate: 0.2, rateLimit: { limit: 5, refillPerSecond: 20 }, tokenTtlSeconds: 2, latencyMs: 5 });
    const neighbour = await startNoisyNeighbour(tenant, 30);
    const env = exportEnv(tenant, receiver, { BATCH_SIZE: '100' });
    const before = (await receiver.messages()).length;
    const result = await runCli(['run'], env).finally(() => neighbour.stop());
    expect(result.code).toBe(0);
    const stats = tenant.stats();
    expect(stats.logsResponses[429] ?? 0).toBeGreaterThan(0);
    expect((stats.logsResponses[500] ?? 0) + (stats.logsResponses[502] ?? 0) + (stats.logsResponses[503] ?? 0)).toBeGreaterThan(0);
    expect(stats.tokensIssued).toBeGreaterThan(1);
    const figures = checkDelivery(eventsOf(tenant), await receivedSince(before));
    expect(figures).toMatchObject({ delivered: 3_000, missing: 0, duplicates: 0, outOfOrder: 0 });
  });

  it('asks for every page after the first at the URL of Auth0\'s Link header, as Auth0 documents', async () => {
    const tenant = await tenantWith({ count: 1_000 });
    const env = exportEnv(tenant, receiver, { BATCH_SIZE: '100' });
    const before = (await receiver.messages()).length;
    const result = await runCli(['run'], env);
    expect(result.report).toMatchObject({ status: 'ok', exported: 1_000 });
    // Ten pages and the empty one that says the run caught up: only the first URL is built.
    expect(tenant.stats()).toMatchObject({ logsRequests: 11, followedLinks: 10 });
    expect(checkDelivery(eventsOf(tenant), await receivedSince(before))).toMatchObject({ delivered: 1_000, missing: 0, duplicates: 0 });
  });

  it('takes a new token when Auth0 expires its token under a running export (401, then a refresh), losing nothing', async () => {
    const tenant = await tenantWith({ count: 2_000, expireTokensEvery: 4 });
    const env = exportEnv(tenant, receiver, { BATCH_SIZE: '100' });
    const before = (await receiver.messages()).length;
    const result = await runCli(['run'], env);
    expect(result.report).toMatchObject({ status: 'ok', exported: 2_000 });
    const stats = tenant.stats();
    expect(stats.forcedExpiries).toBeGreaterThanOrEqual(4);
    expect(stats.logsResponses[401]).toBe(stats.forcedExpiries);
    expect(stats.tokensIssued).toBe(stats.forcedExpiries + 1);
    expect(checkDelivery(eventsOf(tenant), await receivedSince(before))).toMatchObject({ delivered: 2_000, missing: 0, duplicates: 0, outOfOrder: 0 });
  });

  it.each(['next-token', 'bucket-full'] as const)(
    'stays within the bucket when x-ratelimit-reset means %s and a 429 carries Retry-After: no 429 storm, nothing lost',
    async (resetMeans) => {
      // Ten requests of burst and five a second after it: Auth0's "Read Logs" row for self-service plans is 10 and 100/minute.
      const tenant = await tenantWith({ count: 3_000, rateLimit: { limit: 10, refillPerSecond: 5 }, resetMeans });
      const neighbour = await startNoisyNeighbour(tenant, 400);
      const env = exportEnv(tenant, receiver, { BATCH_SIZE: '100' });
      const before = (await receiver.messages()).length;
      const result = await runCli(['run'], env).finally(() => neighbour.stop());
      expect(result.report).toMatchObject({ status: 'ok', exported: 3_000 });
      const stats = tenant.stats();
      const ours429 = (stats.logsResponses[429] ?? 0) - (neighbour.responses()[429] ?? 0);
      // 30 pages; the neighbour's share of the bucket makes a few 429s, never one per request.
      expect(ours429).toBeLessThanOrEqual(5);
      expect(checkDelivery(eventsOf(tenant), await receivedSince(before))).toMatchObject({ delivered: 3_000, missing: 0, duplicates: 0, outOfOrder: 0 });
    },
    60_000,
  );

  it('lists every bad setting with its fix, exits 2, and touches neither Auth0, Papertrail nor the state', async () => {
    const tenant = await tenantWith({ count: 10 });
    const env = exportEnv(tenant, receiver, { PAPERTRAIL_PORT: 'port', BATCH_SIZE: '500', LOG_LEVEL: 'noisy' });
    const before = (await receiver.messages()).length;
    const result = await runCli(['run'], env);
    expect(result.code).toBe(2);
    for (const setting of ['PAPERTRAIL_PORT', 'BATCH_SIZE', 'LOG_LEVEL']) expect(result.stderr).toContain(setting);
    expect(result.stderr).toContain('To fix:');
    expect(result.report).toMatchObject({ status: 'failed', error: { code: 'CONFIG_INVALID' } });
    expect(tenant.stats()).toMatchObject({ tokenRequests: 0, logsRequests: 0 });
    expect(existsSync(env.STORAGE_FILE)).toBe(false);
    expect((await receiver.messages()).length).toBe(before);
  });

  it('fails with exit 1 and keeps the checkpoint when the receiver is down, then delivers everything once it is back', async () => {
    const tenant = await tenantWith({ count: 500 });
    const down = await startRsyslogReceiver({ cert: pki.server });
    await down.stop();
    const env = exportEnv(tenant, down);
    const failed = await runCli(['run'], env);
    expect(failed.code).toBe(1);
    expect(failed.report).toMatchObject({ status: 'failed', exported: 0, error: { code: 'SINK_UNREACHABLE' } });
    expect(String((failed.report?.['error'] as { message: string }).message)).toContain(`127.0.0.1:${down.port}`);
    // Nothing beyond the first shipment and the page fetched ahead was fetched.
    expect(tenant.stats().served).toBeLessThanOrEqual((DEFAULT_PAGES_PER_SHIPMENT + 1) * 100);
    expect(stateOf(env.STORAGE_FILE).checkpoint).toBeNull();
    expect(stateOf(env.STORAGE_FILE).runs.map((r) => r.status)).toEqual(['failed']);

    await down.restart();
    const ok = await runCli(['run'], env);
    expect(ok.code).toBe(0);
    const figures = checkDelivery(eventsOf(tenant), await down.messages());
    expect(figures).toMatchObject({ delivered: 500, missing: 0, duplicates: 0 });
    await down.stop();
  });

  it.each([
    ['an untrusted CA', 'untrusted'],
    ['another host name', 'wrongHost'],
  ] as const)('refuses a receiver whose certificate is from %s: zero messages, and an error saying why', async (_what, which) => {
    const tenant = await tenantWith({ count: 50 });
    const rogue = await startRsyslogReceiver({ cert: pki[which] });
    const env = exportEnv(tenant, rogue);
    const result = await runCli(['run'], env);
    await rogue.stop();
    expect(result.code).toBe(1);
    expect(result.report).toMatchObject({ status: 'failed', error: { code: 'SINK_TLS_REJECTED' } });
    expect(result.stderr).toMatch(/certificate failed verification/);
    expect(await rogue.messages()).toHaveLength(0);
    expect(stateOf(env.STORAGE_FILE).checkpoint).toBeNull();
  });

  it('loses nothing when the receiver is killed mid-run: the next run delivers the rest, with at most three shipments repeated', async () => {
    const tenant = await tenantWith({ count: 20_000, latencyMs: 2 });
    const victim = await startRsyslogReceiver({ cert: pki.server });
    const env = exportEnv(tenant, victim, { BATCH_SIZE: '100' });
    const run = startCli(['run'], env);
    await victim.waitForCount(3_000, 30_000);
    await victim.kill();
    const failed = await run.done;
    expect(failed.code).toBe(1);
    expect(failed.report).toMatchObject({ status: 'failed' });
    const checkpoint = stateOf(env.STORAGE_FILE).checkpoint;

    await victim.restart();
    const ok = await runCli(['run'], env);
    expect(ok.code).toBe(0);
    expect(ok.report?.['startCheckpoint']).toBe(checkpoint);
    const figures = checkDelivery(eventsOf(tenant), await victim.messages());
    expect(figures).toMatchObject({ expected: 20_000, delivered: 20_000, missing: 0, outOfOrder: 0, malformed: 0 });
    // README: a receiver that goes away may leave the shipment it cut off and the two it confirmed just before in doubt.
    expect(figures.duplicates).toBeLessThanOrEqual(3 * DEFAULT_PAGES_PER_SHIPMENT * 100);
    await victim.stop();
  });

  it('never prints the client secret, in success or failure', async () => {
    const tenant = await tenantWith({ count: 20, clientSecret: 'Sup3r-Distinctive-S3cret-Value' });
    const ok = await runCli(['run'], exportEnv(tenant, receiver));
    const bad = await runCli(['run'], exportEnv(tenant, receiver, { AUTH0_CLIENT_SECRET: 'Wr0ng-Distinctive-S3cret-Value' }));
    expect(ok.code).toBe(0);
    expect(bad.code).toBe(1);
    expect(bad.report).toMatchObject({ error: { code: 'AUTH0_UNAUTHORIZED' } });
    for (const output of [ok.stdout, ok.stderr, bad.stdout, bad.stderr]) {
      expect(output).not.toContain('Sup3r-Distinctive-S3cret-Value');
      expect(output).not.toContain('Wr0ng-Distinctive-S3cret-Value');
    }
  });

  it('reads its settings from --dotenv <path>, and refuses a missing file or a missing path with exit 2', async () => {
    const tenant = await tenantWith({ count: 20 });
    const dir = mkdtempSync(join(tmpdir(), 'a0pt-dotenv-'));
    const file = join(dir, 'settings.env');
    // Node reads NODE_EXTRA_CA_CERTS as it starts, so it stays in the environment; every setting is in the file.
    const { NODE_EXTRA_CA_CERTS: ca, ...settings } = exportEnv(tenant, receiver);
    writeFileSync(file, Object.entries(settings).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n'));
    const fromFile = await runCli(['run', '--dotenv', file], { NODE_EXTRA_CA_CERTS: ca ?? '' });
    expect(fromFile.code).toBe(0);
    expect(fromFile.report).toMatchObject({ status: 'ok', exported: 20 });
    for (const args of [['run', '--dotenv', join(dir, 'missing.env')], ['run', '--dotenv'], ['run', '--dotenv=']]) {
      const refused = await runCli(args, {});
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/does not exist|needs a path/);
    }
  });

  it('documents itself with --help', async () => {
    const result = await runCli(['--help'], {});
    expect(result.code).toBe(0);
    for (const word of ['run', 'serve', 'AUTH0_DOMAIN', 'PAPERTRAIL_HOST', 'LOG_TYPES', 'Exit codes']) expect(result.stdout).toContain(word);
  });
});
