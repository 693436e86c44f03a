/**
 * The CLI and the service on the supported Node lines, 22 and 24, as builds
 * from the npm registry (test/runtimes), while the rest of the suite runs on
 * the machine's own Node. Focused: one drain and one service lifetime per
 * line. The state is in PostgreSQL here, which needs no native addon: the
 * checkout's better-sqlite3 is compiled for the machine's Node, and SQLite on
 * Node 24 is covered by test/integration/package.test.ts, which installs the
 * package (compiling the driver) with Node 24.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestPki } from '../support/certs';
import { killAllClis, runCli } from '../support/cli';
import { checkDelivery } from '../support/delivery';
import type { TenantEvent } from '../support/events';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant } from '../support/fake-tenant';
import { killAllPostgres, startPostgres, type PostgresServer } from '../support/postgres-server';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import { startServe } from '../support/serve';
import { nodeBinary } from '../support/test-runtimes';

const pki = createTestPki();
const tenants: FakeTenant[] = [];
let postgres: PostgresServer;

async function tenantWith(count: number): Promise<FakeTenant> {
  const tenant = await startFakeTenant({ count, start: new Date(Date.now() - 2 * 24 * 3600 * 1000), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile });
  tenants.push(tenant);
  return tenant;
}

function eventsOf(tenant: FakeTenant): TenantEvent[] {
  return Array.from({ length: tenant.size() }, (_, i) => tenant.eventAt(i));
}

beforeAll(async () => {
  postgres = await startPostgres();
});
afterEach(async () => {
  killAllClis();
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
  await stopAllReceivers();
});
afterAll(async () => {
  await postgres?.stop();
  killAllPostgres();
});

describe.each(['22', '24'] as const)('on Node %s', (line) => {
  let node: string;
  let receiver: RsyslogReceiver;
  beforeAll(() => {
    node = nodeBinary(line);
    // The build really is of that line (the alias in test/runtimes could name any version).
    expect(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout).toMatch(new RegExp(`^v${line}\\.`));
  });
  beforeEach(async () => {
    receiver = await startRsyslogReceiver({ cert: pki.server });
  });

  it('the CLI drains 3,000 events into Papertrail, each exactly once, and prints its version', async () => {
    const version = await runCli(['--version'], {}, undefined, node);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version);

    const tenant = await tenantWith(3_000);
    const env = exportEnv(tenant, receiver, { STATE_URL: await postgres.createDatabase() });
    const result = await runCli(['run'], env, undefined, node);
    expect(result.code).toBe(0);
    expect(result.report).toMatchObject({ status: 'ok', fetched: 3_000, exported: 3_000 });
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    expect(figures).toMatchObject({ expected: 3_000, delivered: 3_000, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
  });

  it('the service drains a growing tenant on its schedule and stops cleanly on SIGTERM', async () => {
    const tenant = await tenantWith(500);
    const env = exportEnv(tenant, receiver, { SCHEDULE: '* * * * * *', STATE_URL: await postgres.createDatabase() });
    const service = await startServe(env, node);
    await receiver.waitForCount(500, 30_000);
    tenant.append(300);
    await receiver.waitForCount(800, 30_000);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    service.child.kill('SIGTERM');
    const [code] = (await once(service.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    expect(figures).toMatchObject({ expected: 800, delivered: 800, missing: 0, duplicates: 0, outOfOrder: 0 });
  });
});
