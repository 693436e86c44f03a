/**
 * `auth0-logs-to-papertrail serve` as a real process: its scheduler drains a
 * tenant that keeps growing, pause/resume works, and SIGTERM mid-run loses
 * nothing. Also the file store's run lease across processes.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { createTestPki } from '../support/certs';
import { killAllClis, runCli, startCli } from '../support/cli';
import { checkDelivery } from '../support/delivery';
import type { TenantEvent } from '../support/events';
import { exportEnv } from '../support/export-env';
import { readStoredState } from '../support/stored-state';
import { startFakeTenant, type FakeTenant, type FakeTenantOptions } from '../support/fake-tenant';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import { exposureWarning } from '../../src/serve';

const pki = createTestPki();
const ADMIN = 'serve-admin-token-0123456789abcdef';
let receiver: RsyslogReceiver;
const tenants: FakeTenant[] = [];

beforeEach(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
});
afterEach(async () => {
  killAllClis();
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
  await stopAllReceivers();
});

async function tenantWith(options: FakeTenantOptions): Promise<FakeTenant> {
  const tenant = await startFakeTenant({ start: new Date(Date.now() - 86_400_000), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile, ...options });
  tenants.push(tenant);
  return tenant;
}

const eventsOf = (t: FakeTenant): TenantEvent[] => Array.from({ length: t.size() }, (_, i) => t.eventAt(i));
const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** Starts `serve` and resolves with its URL once it listens. */
async function startServe(env: Record<string, string>) {
  const service = startCli(['serve'], { HOST: '127.0.0.1', PORT: '0', ...env });
  let stderr = '';
  service.child.stderr?.on('data', (c: string) => (stderr += c));
  await until('serve to listen', () => /serving on http:\/\/127\.0\.0\.1:\d+/.test(stderr));
  const url = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1] ?? '';
  const api = (method: string, path: string) => fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}` } });
  return { ...service, url, api, stderr: () => stderr };
}

describe('auth0-logs-to-papertrail serve', () => {
  it('drains a growing tenant on its schedule, pauses and resumes, and stops cleanly on SIGTERM', async () => {
    const tenant = await tenantWith({ count: 500 });
    const env = exportEnv(tenant, receiver, { SCHEDULE: '* * * * * *', ADMIN_TOKEN: ADMIN });
    const service = await startServe(env);

    await receiver.waitForCount(500, 20_000);
    tenant.append(300);
    await receiver.waitForCount(800, 20_000);

    expect((await service.api('POST', '/pause')).status).toBe(200);
    // Let any run that had already started finish.
    await until('the run in flight to end', async () => !((await (await fetch(`${service.url}/health`)).json()) as { running: boolean }).running);
    const pausedAt = (await receiver.messages()).length;
    tenant.append(200);
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await receiver.messages()).length).toBe(pausedAt);
    expect(((await (await fetch(`${service.url}/health`)).json()) as { paused: boolean }).paused).toBe(true);

    expect((await service.api('POST', '/resume')).status).toBe(200);
    await receiver.waitForCount(1_000, 20_000);

    service.child.kill('SIGTERM');
    const [code] = (await once(service.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(service.stderr()).toMatch(/SIGTERM: shutting down/);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    expect(figures).toMatchObject({ expected: 1_000, delivered: 1_000, missing: 0, duplicates: 0, outOfOrder: 0 });
    const runs = readStoredState(env.STORAGE_FILE).runs;
    expect(runs.every((r) => r.trigger === 'schedule')).toBe(true);
  });

  it('loses nothing when stopped with SIGTERM in the middle of a run', async () => {
    const tenant = await tenantWith({ count: 20_000, latencyMs: 3 });
    const env = exportEnv(tenant, receiver, { SCHEDULE: '* * * * * *' });
    const service = await startServe(env);
    await receiver.waitForCount(2_000, 20_000);
    service.child.kill('SIGTERM');
    await once(service.child, 'exit');
    const state = readStoredState(env.STORAGE_FILE);
    expect(state.lease).toBeNull();
    expect(state.runs.at(-1)).toMatchObject({ status: 'ok', stoppedBy: 'shutdown' });
    const shippedBefore = (await receiver.messages()).length;
    expect(shippedBefore).toBeLessThan(20_000);

    // Everything up to the saved checkpoint arrived; the next run ships the rest.
    const next = await runCli(['run'], env);
    expect(next.code).toBe(0);
    expect(next.report?.['startCheckpoint']).toBe(state.checkpoint);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    expect(figures).toMatchObject({ delivered: 20_000, missing: 0, duplicates: 0, outOfOrder: 0 });
  });

  it('follows the log with SCHEDULE=continuous: drains the backlog, ships new events within seconds, folds idle polls into one record, stops on SIGTERM', async () => {
    const tenant = await tenantWith({ count: 3_000, rateLimit: { limit: 10, refillPerSecond: 100 / 60 } });
    const env = exportEnv(tenant, receiver, { SCHEDULE: 'continuous', POLL_INTERVAL_SECONDS: '1', ADMIN_TOKEN: ADMIN });
    const service = await startServe(env);
    expect(service.stderr()).toMatch(/following the log, polling every 1 s/);
    await receiver.waitForCount(3_000, 30_000);
    // The drain left the bucket nearly empty; idle polls wait for it to be half full again (3 s at most here).
    await new Promise((r) => setTimeout(r, 4_000));

    // Caught up: new events arrive within one idle poll interval plus 2 s, not at a cron tick. At
    // 100 requests/min, a 25 % share spaces idle polls 2.4 s apart although POLL_INTERVAL_SECONDS is 1.
    for (const batch of [5, 40]) {
      const before = (await receiver.messages()).length;
      tenant.append(batch);
      const appended = Date.now();
      await receiver.waitForCount(before + batch, 10_000);
      expect(Date.now() - appended).toBeLessThan(2_400 + 2_000);
    }
    await new Promise((r) => setTimeout(r, 8_000));
    // Idle polls never emptied the bucket (10, refilling 100/min): no 429 at all.
    expect(tenant.stats().logsResponses[429] ?? 0).toBe(0);

    service.child.kill('SIGTERM');
    const [code] = (await once(service.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    expect(figures).toMatchObject({ expected: 3_045, delivered: 3_045, missing: 0, duplicates: 0, outOfOrder: 0 });
    const state = readStoredState(env.STORAGE_FILE);
    expect(state.lease).toBeNull();
    expect(state.runs.every((r) => r.trigger === 'follow')).toBe(true);
    // Idle polls are folded: far fewer records than polls, and at least one stretch of several.
    expect(Math.max(...state.runs.map((r) => r.idlePolls ?? 1))).toBeGreaterThanOrEqual(3);
    expect(state.runs.filter((r) => r.fetched === 0).length).toBeLessThanOrEqual(4);
  });

  it('rejects an invalid SCHEDULE with exit 2 and a clear fix, alongside any other bad setting', async () => {
    const tenant = await tenantWith({ count: 1 });
    const result = await runCli(['serve'], { ...exportEnv(tenant, receiver), SCHEDULE: 'every five minutes', BATCH_SIZE: '0' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SCHEDULE');
    expect(result.stderr).toContain('BATCH_SIZE');
    expect(result.stderr).toMatch(/e\.g\. "\*\/5 \* \* \* \*"/);
    expect(tenant.stats().tokenRequests).toBe(0);
  });

  it('stops on SIGTERM although a client keeps its connection always mid-request: it is answered 503 with Connection: close', async () => {
    const tenant = await tenantWith({ count: 1 });
    const service = await startServe({ ...exportEnv(tenant, receiver), ADMIN_TOKEN: ADMIN, LOG_STREAM_TOKEN: 'busy-client-stream-token-0123456789', SCHEDULE: '0 0 1 1 *' });
    const { port } = new URL(service.url);
    // One keep-alive connection whose next request starts the moment an answer arrives, its body trickling in:
    // there is never a moment when it is idle, so closing idle connections alone never ends it.
    const socket = connect(Number(port), '127.0.0.1');
    const answers: string[] = [];
    let buffered = '';
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, work: () => void): void => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!socket.destroyed) work();
      }, ms);
      timers.add(timer);
    };
    const send = (): void => {
      socket.write('POST /runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n');
      later(150, () => socket.write('{'));
      later(300, () => socket.write('}'));
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const head = /^HTTP\/1\.1 (\d+)[\s\S]*?\r\n\r\n/.exec(buffered);
      if (!head) return;
      const length = Number(/content-length: (\d+)/i.exec(head[0])?.[1] ?? 0);
      if (buffered.length < head[0].length + length) return;
      answers.push(`${head[1]} ${/connection: (\S+)/i.exec(head[0])?.[1] ?? ''}`);
      buffered = buffered.slice(head[0].length + length);
      send();
    });
    socket.on('error', () => undefined);
    const closed = once(socket, 'close');
    send();
    await until('a few answers', () => answers.length >= 3);

    const exited = once(service.child, 'exit');
    service.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([exited.then(([code]) => code as number), new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running after 15 s'), 15_000)))]);
    clearTimeout(timer);
    for (const pending of timers) clearTimeout(pending);
    socket.destroy();
    await closed;
    expect(outcome).toBe(0);
    expect(answers.at(-1)).toBe('503 close');
  }, 40_000);

  it('exits 1 with a clear error when its port is taken, having exported nothing', async () => {
    const tenant = await tenantWith({ count: 10 });
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = (holder.address() as AddressInfo).port;
      // A schedule that fires every second: before the fix it kept exporting with no HTTP server.
      const result = await runCli(['serve'], { ...exportEnv(tenant, receiver), HOST: '127.0.0.1', PORT: String(port), SCHEDULE: '* * * * * *' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(HOST, PORT\\): .*EADDRINUSE`));
      expect(tenant.stats().logsRequests).toBe(0);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 20_000);

  it('refuses a HOST that is not an address or a host name with exit 2, before anything else', async () => {
    const tenant = await tenantWith({ count: 1 });
    const result = await runCli(['serve'], { ...exportEnv(tenant, receiver), HOST: 'not a host', PORT: '0' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HOST');
    expect(tenant.stats().tokenRequests).toBe(0);
  });

  it('warns when it would listen beyond loopback without an admin token, and only then', () => {
    // Decided from the settings alone: the tests bind loopback addresses only.
    for (const host of ['0.0.0.0', '::', '192.0.2.10', 'exporter.internal']) expect(exposureWarning(host, null)).toMatch(/no ADMIN_TOKEN is set while listening on/);
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', 'localhost']) expect(exposureWarning(host, null)).toBeNull();
    expect(exposureWarning('0.0.0.0', 'an-admin-token-0123456789')).toBeNull();
  });

  it('prints no exposure warning on loopback without an admin token', async () => {
    const tenant = await tenantWith({ count: 1 });
    const service = startCli(['serve'], { ...exportEnv(tenant, receiver), HOST: '127.0.0.1', PORT: '0', SCHEDULE: '0 0 1 1 *' });
    let stderr = '';
    service.child.stderr?.on('data', (c: string) => (stderr += c));
    await until('serve to listen', () => /serving on/.test(stderr));
    service.child.kill('SIGTERM');
    await service.done;
    expect(stderr).not.toMatch(/no ADMIN_TOKEN is set/);
  });
});

describe('the run lease in the state database', () => {
  it('lets exactly one of two simultaneous CLI runs proceed, with nothing shipped twice', async () => {
    const tenant = await tenantWith({ count: 5_000, latencyMs: 2 });
    const env = exportEnv(tenant, receiver);
    const [a, b] = await Promise.all([runCli(['run'], env), runCli(['run'], env)]);
    const statuses = [a.report?.['status'], b.report?.['status']].sort();
    expect(statuses).toEqual(['ok', 'skipped']);
    expect([a.code, b.code]).toEqual([0, 0]);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    expect(figures).toMatchObject({ delivered: 5_000, missing: 0, duplicates: 0 });
  });

  it('is not blocked by a run killed with SIGKILL: its lease is stale at once', async () => {
    const tenant = await tenantWith({ count: 20_000, latencyMs: 3 });
    const env = exportEnv(tenant, receiver);
    const victim = startCli(['run'], env);
    await receiver.waitForCount(1_000, 20_000);
    victim.child.kill('SIGKILL');
    await victim.done;
    const leased = readStoredState(env.STORAGE_FILE);
    expect(leased.lease?.pid).toBe(victim.child.pid);

    const next = await runCli(['run'], env);
    expect(next.code).toBe(0);
    expect(next.report).toMatchObject({ status: 'ok', startCheckpoint: leased.checkpoint });
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    expect(figures).toMatchObject({ delivered: 20_000, missing: 0 });
    // The README's bound: a crash re-ships at most one shipment, 1,000 logs with the defaults.
    expect(figures.duplicates).toBeLessThanOrEqual(1_000);
  });
});
