/**
 * The built extension bundle under a real webtask runtime (webtask-runtime's
 * server), on this Node and on Node 18 (Auth0's extension runtime): the cron
 * POST drains a simulated tenant into rsyslogd, state lives in ctx.storage,
 * and the run history shows failures as failures. wt serve: webtask-runtimes.test.ts.
 */
import { readFileSync } from 'node:fs';
import { createTestPki } from '../support/certs';
import { checkDelivery } from '../support/delivery';
import type { TenantEvent } from '../support/events';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant } from '../support/fake-tenant';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import type { NodeVersion } from '../support/test-runtimes';
import { startWebtaskHost, type WebtaskHost } from '../support/webtask-host';

const pki = createTestPki();
const CRON_RECORD = { name: 'auth0-logs-to-papertrail', container: 'tenant', state: 'active', schedule: '0 */5 * * * *', tz: 'UTC' };
const ADMIN = 'an-admin-token-long-enough-0123456789';

let receiver: RsyslogReceiver;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
afterAll(async () => {
  await stopAllReceivers();
});

/** The Node the host runs on: set by each describe block below. */
let node: NodeVersion = 'current';

async function setup(count: number, options: { latencyMs?: number; secrets?: Record<string, string>; receiverPort?: number } = {}) {
  const tenant = await startFakeTenant({ count, start: new Date(Date.now() - 86_400_000), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile, ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}) });
  cleanups.push(() => tenant.stop());
  const env = exportEnv(tenant, { port: options.receiverPort ?? receiver.port });
  // Standalone-only settings are not webtask secrets; the host trusts the test CA instead.
  const { NODE_EXTRA_CA_CERTS: _ca, STORAGE_FILE: _file, ...secrets } = env;
  const host = await startWebtaskHost({ ...secrets, ...options.secrets }, { caFile: pki.server.caFile, node });
  cleanups.push(() => host.close());
  return { tenant, host };
}

const events = (tenant: FakeTenant): TenantEvent[] => Array.from({ length: tenant.size() }, (_, i) => tenant.eventAt(i));
const storage = (host: WebtaskHost) => JSON.parse(readFileSync(host.storageFile, 'utf8')) as { checkpoint: string | null; lease: unknown; runs: { status: string; trigger: string; error?: { code: string } }[] };

function post(host: WebtaskHost, path: string, body: unknown, token?: string) {
  return fetch(`${host.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

describe.each([['this Node', 'current'], ['Node 18', '18']] as const)('the extension under a webtask runtime on %s', (_, version) => {
  beforeAll(() => {
    node = version;
  });

  it('drains the tenant on the cron POST, answers 200 with status and counts, and keeps state in ctx.storage', async () => {
    const { tenant, host } = await setup(1_500);
    const before = (await receiver.messages()).length;
    const res = await post(host, '/', CRON_RECORD);
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', fetched: 1_500, exported: 1_500, stoppedBy: 'caught-up' });
    // An unauthenticated caller sees status and counts only.
    expect(body).not.toHaveProperty('checkpoint');
    expect(body).not.toHaveProperty('warnings');
    const figures = checkDelivery(events(tenant), (await receiver.messages()).slice(before));
    expect(figures).toMatchObject({ delivered: 1_500, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
    const state = storage(host);
    expect(state.checkpoint).toBe(tenant.lastId());
    expect(state.lease).toBeNull();
    expect(state.runs).toEqual([expect.objectContaining({ status: 'ok', trigger: 'cron' })]);
    // Realtime logs: a start line, one line per shipment ("page 3" or, for pages shipped together while a backlog
    // drains, "pages 4-9"), an end summary, and never a secret. The shipments' page ranges cover pages 1 to 15 in order.
    const logs = host.output();
    expect(logs).toMatch(/run started: from 900\d+ \(oldest-retained\)/);
    const shipments = [...logs.matchAll(/pages? (\d+)(?:-(\d+))?: fetched (\d+), exported (\d+), filtered out 0, checkpoint 900\d+/g)];
    const ranges = shipments.map(([, first, last, fetched, exported]) => ({ first: Number(first), last: Number(last ?? first), fetched: Number(fetched), exported: Number(exported) }));
    expect(ranges.map((r) => r.first)).toEqual([1, ...ranges.slice(0, -1).map((r) => r.last + 1)]);
    expect(ranges.at(-1)?.last).toBe(15);
    for (const r of ranges) expect(r).toMatchObject({ fetched: 100 * (r.last - r.first + 1), exported: 100 * (r.last - r.first + 1) });
    expect(logs).toMatch(/run finished: 1500 exported/);
    expect(logs).not.toContain(tenant.clientSecret);
  });

  it('never runs twice at once: a second POST during a run is refused and nothing is shipped twice', async () => {
    const { tenant, host } = await setup(3_000, { latencyMs: 15, secrets: { ADMIN_TOKEN: ADMIN } });
    const before = (await receiver.messages()).length;
    const first = post(host, '/', CRON_RECORD);
    await new Promise((r) => setTimeout(r, 150));
    const second = await post(host, '/run', {}, ADMIN);
    expect(second.status).toBe(409);
    expect((await first).status).toBe(200);
    const figures = checkDelivery(events(tenant), (await receiver.messages()).slice(before));
    expect(figures).toMatchObject({ delivered: 3_000, missing: 0, duplicates: 0 });
    expect(storage(host).runs).toHaveLength(1);
  });

  it('answers a failed run with a non-2xx status, records the error in the history, and leaves the checkpoint', async () => {
    const down = await startRsyslogReceiver({ cert: pki.server });
    await down.stop();
    const { host } = await setup(200, { receiverPort: down.port, secrets: { ADMIN_TOKEN: ADMIN } });
    const res = await post(host, '/', CRON_RECORD);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ status: 'failed', error: { code: 'SINK_UNREACHABLE' } });
    const state = storage(host);
    expect(state.checkpoint).toBeNull();
    expect(state.runs).toEqual([expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: 'SINK_UNREACHABLE' }) })]);
    const runs = await fetch(`${host.url}/runs`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const history = (await runs.json()) as { runs: { error?: { message: string } }[] };
    expect(history.runs[0]?.error?.message).toContain('connection refused');
  });

  it('answers bad settings with 400 naming each setting, before anything is fetched', async () => {
    const { tenant, host } = await setup(10, { secrets: { BATCH_SIZE: '1000', LOG_LEVEL: 'everything' } });
    const res = await post(host, '/', CRON_RECORD);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ status: 'failed', error: { code: 'CONFIG_INVALID', settings: ['BATCH_SIZE', 'LOG_LEVEL'] } });
    expect(tenant.stats().tokenRequests).toBe(0);
  });

  it('limits open triggers to one per interval and requires the admin token for manual runs when one is set', async () => {
    const { host } = await setup(5, { secrets: { ADMIN_TOKEN: ADMIN } });
    expect((await post(host, '/run', {})).status).toBe(401);
    expect((await post(host, '/run', {}, 'wrong-token-wrong-token-wrong')).status).toBe(401);
    expect((await post(host, '/', CRON_RECORD)).status).toBe(200);
    const again = await post(host, '/', CRON_RECORD);
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await post(host, '/run', {}, ADMIN)).status).toBe(200);
    expect((await fetch(`${host.url}/runs`)).status).toBe(401);
  });

  it('reports health and lets an administrator reset the checkpoint, recorded in the history', async () => {
    const { tenant, host } = await setup(300, { secrets: { ADMIN_TOKEN: ADMIN } });
    await post(host, '/run', {}, ADMIN);
    const health = (await (await fetch(`${host.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', running: false, paused: false });
    expect(typeof health['lagSeconds']).toBe('number');

    const reset = await post(host, '/reset', { checkpoint: tenant.idAt(199) }, ADMIN);
    expect(reset.status).toBe(200);
    const rerun = (await (await post(host, '/run', {}, ADMIN)).json()) as Record<string, unknown>;
    expect(rerun).toMatchObject({ status: 'ok', startCheckpoint: tenant.idAt(199), exported: 100 });
    expect(storage(host).runs.map((r) => r.trigger)).toEqual(['manual', 'reset', 'manual']);
  });
});
