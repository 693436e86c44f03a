/**
 * The built extension bundle where users run it, besides webtask-runtime on
 * this Node (test/integration/webtask.test.ts):
 * - wt-cli's `wt serve`, which patches https.request process-wide (agent-base@4),
 *   with --storage-file, --parse-body and --secret, on this Node and on Node 18;
 * - webtask-runtime on Node 18, Auth0's extension runtime.
 * Each drains a backlog to rsyslogd with a Papertrail token, refuses a second
 * run while one is going, and fails a run whose receiver is down without
 * moving the checkpoint. The token travels in every frame and nowhere else.
 */
import { readFileSync } from 'node:fs';
import { createTestPki } from '../support/certs';
import { checkDelivery } from '../support/delivery';
import type { TenantEvent } from '../support/events';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant } from '../support/fake-tenant';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import type { NodeVersion } from '../support/test-runtimes';
import { startWebtaskHost, type WebtaskHost, type WebtaskRuntime } from '../support/webtask-host';

const pki = createTestPki();
const CRON_RECORD = { name: 'auth0-logs-to-papertrail', container: 'tenant', state: 'active', schedule: '0 */5 * * * *', tz: 'UTC' };
const ADMIN = 'an-admin-token-for-runtimes-0123456789';
/** Longer than RFC 5424's 32-character SD-NAME once "@41058" is added, as Papertrail's tokens are. */
const TOKEN = '731604-RUNTIMETOKEN_qwertyuiopasdfgh';

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

const HOSTS: ReadonlyArray<[string, WebtaskRuntime, NodeVersion]> = [
  ['wt serve on this Node', 'wt-serve', 'current'],
  ['wt serve on Node 18', 'wt-serve', '18'],
  ['webtask-runtime on Node 18', 'webtask-runtime', '18'],
];

describe.each(HOSTS)('the extension under %s', (_, runtime, node) => {
  async function setup(count: number, options: { latencyMs?: number; receiverPort?: number } = {}) {
    const tenant = await startFakeTenant({ count, start: new Date(Date.now() - 86_400_000), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile, ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}) });
    cleanups.push(() => tenant.stop());
    const env = exportEnv(tenant, { port: options.receiverPort ?? receiver.port });
    // Standalone-only settings are not webtask secrets; the host trusts the test CA instead.
    const { NODE_EXTRA_CA_CERTS: _ca, STORAGE_FILE: _file, ...secrets } = env;
    const host = await startWebtaskHost({ ...secrets, ADMIN_TOKEN: ADMIN, PAPERTRAIL_TOKEN: TOKEN }, { caFile: pki.server.caFile, runtime, node });
    cleanups.push(() => host.close());
    return { tenant, host };
  }

  const events = (tenant: FakeTenant): TenantEvent[] => Array.from({ length: tenant.size() }, (_i, i) => tenant.eventAt(i));
  const post = (host: WebtaskHost, path: string, body: unknown, token?: string) =>
    fetch(`${host.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  /** Read through the app: wt serve's own storage file is written without ordering and may be caught torn. */
  const history = async (host: WebtaskHost) =>
    (await (await fetch(`${host.url}/runs`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { checkpoint: string | null; runs: { status: string; trigger: string; error?: { code: string; message: string } }[] };
  /** Everything the extension showed or kept: realtime logs, what it answered, the stored state. */
  const expectNoSecrets = (host: WebtaskHost, tenant: FakeTenant, answered: string[]) => {
    const seen = [host.output(), ...answered, readFileSync(host.storageFile, 'utf8')].join('\n');
    expect(seen).not.toContain(TOKEN);
    expect(seen).not.toContain(tenant.clientSecret);
    expect(seen).not.toContain(ADMIN);
  };

  it('drains a backlog on the cron POST (200), every message carrying the token element, and keeps no secret', async () => {
    const { tenant, host } = await setup(1_500);
    const before = (await receiver.messages()).length;
    const res = await post(host, '/', CRON_RECORD);
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ status: 'ok', fetched: 1_500, exported: 1_500, stoppedBy: 'caught-up' });
    const figures = checkDelivery(events(tenant), (await receiver.messages()).slice(before), { token: TOKEN });
    expect(figures).toMatchObject({ delivered: 1_500, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0, expectedStructuredData: 1_500 });
    const state = await history(host);
    expect(state.checkpoint).toBe(tenant.lastId());
    expect(state.runs).toEqual([expect.objectContaining({ status: 'ok', trigger: 'cron' })]);
    expect(host.output()).toMatch(/run finished: 1500 exported/);
    expectNoSecrets(host, tenant, [body, JSON.stringify(state)]);
  });

  it('refuses a second POST during a run, and ships nothing twice', async () => {
    const { tenant, host } = await setup(3_000, { latencyMs: 15 });
    const before = (await receiver.messages()).length;
    const first = post(host, '/', CRON_RECORD);
    await new Promise((r) => setTimeout(r, 300));
    const second = await post(host, '/run', {}, ADMIN);
    expect(second.status).toBe(409);
    const answer = await first;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ status: 'ok', exported: 3_000 });
    const figures = checkDelivery(events(tenant), (await receiver.messages()).slice(before), { token: TOKEN });
    expect(figures).toMatchObject({ delivered: 3_000, missing: 0, duplicates: 0, malformed: 0 });
    expect((await history(host)).runs).toHaveLength(1);
  });

  it('answers a run whose receiver is down with a non-2xx status, and leaves the checkpoint where it was', async () => {
    const down = await startRsyslogReceiver({ cert: pki.server });
    await down.stop();
    const { tenant, host } = await setup(200, { receiverPort: down.port });
    const res = await post(host, '/', CRON_RECORD);
    const body = await res.text();
    expect(res.status).toBe(502);
    expect(JSON.parse(body)).toMatchObject({ status: 'failed', error: { code: 'SINK_UNREACHABLE' } });
    const state = await history(host);
    expect(state.checkpoint).toBeNull();
    expect(state.runs).toEqual([expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: 'SINK_UNREACHABLE' }) })]);
    expectNoSecrets(host, tenant, [body, JSON.stringify(state)]);
  });
});
