/**
 * The CLI and the service on their state databases, end to end: a JSON state
 * file of an earlier version is migrated and the export continues after its
 * checkpoint; a database that cannot be used fails the run (exit 1, HTTP 500)
 * before anything is shipped; runs on one PostgreSQL database never overlap,
 * whether two CLI runs or three `serve` replicas drain a backlog together.
 */
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PostgresStateStore } from '../../src/storage/postgres-state-store';
import { SqliteStateStore } from '../../src/storage/sqlite-state-store';
import type { StateDocument } from '../../src/storage/state';
import { createTestPki } from '../support/certs';
import { killAllClis, runCli, startCli } from '../support/cli';
import { checkDelivery } from '../support/delivery';
import type { TenantEvent } from '../support/events';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant, type FakeTenantOptions } from '../support/fake-tenant';
import { overlaps } from '../support/run-history';
import { startServe, until } from '../support/serve';
import { usePostgresServer } from '../support/postgres-server';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import { readShippedIds, readStoredState } from '../support/stored-state';

/** README's settings table: PAGES_PER_SHIPMENT defaults to 10 (a crash re-ships at most one shipment of up to 10 pages). */
const DEFAULT_PAGES_PER_SHIPMENT = 10;

const pki = createTestPki();
const ADMIN = 'databases-admin-token-0123456789abcdef';
const tenants: FakeTenant[] = [];
let receiver: RsyslogReceiver;
const postgres = usePostgresServer();
beforeEach(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
});
afterEach(async () => {
  killAllClis();
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
  await stopAllReceivers();
});

async function tenantWith(options: FakeTenantOptions): Promise<FakeTenant> {
  const tenant = await startFakeTenant({ start: new Date(Date.now() - 2 * 86_400_000), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile, ...options });
  tenants.push(tenant);
  return tenant;
}

const eventsOf = (t: FakeTenant): TenantEvent[] => Array.from({ length: t.size() }, (_, i) => t.eventAt(i));

async function readPostgresState(url: string): Promise<StateDocument> {
  const store = new PostgresStateStore({ url });
  try {
    return await store.read();
  } finally {
    await store.close();
  }
}

/** The lease owner column of the state row, read with SQL of the test's own. */
async function storedLeaseOwner(url: string): Promise<string | null> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ lease_owner: string | null }>('SELECT lease_owner FROM state')).rows[0]?.lease_owner ?? null;
  } finally {
    await client.end();
  }
}

describe('migration from a JSON state file', () => {
  it('continues after the checkpoint of the JSON file, skipping and repeating nothing, and keeps the file renamed', async () => {
    const tenant = await tenantWith({ count: 600 });
    const dir = mkdtempSync(join(tmpdir(), 'a0pt-migrate-'));
    const jsonFile = join(dir, 'state.json');
    // What an earlier version left after exporting the first 250 events.
    writeFileSync(jsonFile, JSON.stringify({ version: 1, checkpoint: tenant.idAt(249), startFrom: null, lease: null, runs: [{ id: 'before', status: 'ok' }], lastSuccessAt: null, newestExportedDate: null, paused: false, lastOpenTriggerAt: null }));
    const env = exportEnv(tenant, receiver, { STORAGE_FILE: jsonFile });

    const result = await runCli(['run'], env);
    expect(result.code).toBe(0);
    expect(result.report).toMatchObject({ status: 'ok', startSource: 'checkpoint', startCheckpoint: tenant.idAt(249), exported: 350 });
    expect(result.stderr).toMatch(/migrated the JSON state file into .*state\.json \(checkpoint \d+, 1 runs\); the file is kept as .*state\.json\.migrated/);
    const figures = checkDelivery(eventsOf(tenant).slice(250), await receiver.messages());
    expect(figures).toMatchObject({ expected: 350, delivered: 350, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
    expect(JSON.parse(readFileSync(`${jsonFile}.migrated`, 'utf8')).checkpoint).toBe(tenant.idAt(249));
    // The database now lives where the JSON file was, and holds the history from before.
    const state = readStoredState(jsonFile);
    expect(state.checkpoint).toBe(tenant.lastId());
    expect(state.runs.map((r) => r.id)).toEqual(['before', result.report?.['runId']]);
    // The poller recorded what it shipped.
    expect(readShippedIds(jsonFile).size).toBe(350);
  });
});

describe('a deliberate replay', () => {
  it('START_FROM ships again the logs after it, though the poller recorded them as shipped minutes ago', async () => {
    const tenant = await tenantWith({ count: 300 });
    const env = exportEnv(tenant, receiver);
    expect((await runCli(['run'], env)).report).toMatchObject({ status: 'ok', exported: 300 });
    expect(readShippedIds(env.STORAGE_FILE).size).toBe(300);

    const replay = await runCli(['run'], { ...env, START_FROM: tenant.idAt(199) });
    expect(replay.report).toMatchObject({ status: 'ok', startSource: 'START_FROM', exported: 100, alreadyShipped: 0 });
    const messages = await receiver.messages();
    expect(messages).toHaveLength(400);
    const replayed = checkDelivery(eventsOf(tenant).slice(200), messages.slice(300));
    expect(replayed).toMatchObject({ expected: 100, delivered: 100, missing: 0, duplicates: 0, outOfOrder: 0 });
  }, 30_000);
});

describe('pause, shared through the state', () => {
  it('a CLI run honours a pause set by a service sharing its state: it reports paused, exits 0 and fetches nothing', async () => {
    const tenant = await tenantWith({ count: 50 });
    const env = exportEnv(tenant, receiver);
    const store = new SqliteStateStore({ file: env.STORAGE_FILE });
    await store.update((s) => ({ ...s, paused: true }));
    await store.close();
    const paused = await runCli(['run'], env);
    expect(paused.code).toBe(0);
    expect(paused.report).toEqual({ status: 'paused' });
    expect(tenant.stats().logsRequests).toBe(0);

    const again = new SqliteStateStore({ file: env.STORAGE_FILE });
    await again.update((s) => ({ ...s, paused: false }));
    await again.close();
    expect((await runCli(['run'], env)).report).toMatchObject({ status: 'ok', exported: 50 });
  });
});

describe('a state database that cannot be used', () => {
  it('SQLite: a file that cannot be created fails the run with exit 1 and an error naming the store, before anything is fetched or shipped', async () => {
    const tenant = await tenantWith({ count: 200 });
    const blocker = join(mkdtempSync(join(tmpdir(), 'a0pt-blocked-')), 'a-file');
    writeFileSync(blocker, '');
    const env = exportEnv(tenant, receiver, { STORAGE_FILE: join(blocker, 'state.db') });
    const result = await runCli(['run'], env);
    expect(result.code).toBe(1);
    expect(result.report).toMatchObject({ status: 'failed', error: { code: 'STORAGE_ERROR' } });
    expect(String((result.report?.['error'] as { message: string }).message)).toContain(`SQLite state store ${join(blocker, 'state.db')}`);
    expect(tenant.stats()).toMatchObject({ logsRequests: 0 });
    expect(await receiver.messages()).toHaveLength(0);
  });

  it('PostgreSQL: an unreachable server fails a CLI run with exit 1 and a serve trigger with HTTP 500, naming the store, never its password', async () => {
    const tenant = await tenantWith({ count: 200 });
    const password = 'unreachable-db-password-0123';
    const env = exportEnv(tenant, receiver, { STATE_URL: `postgres://exporter:${password}@127.0.0.1:1/auth0_logs` });
    const result = await runCli(['run'], env);
    expect(result.code).toBe(1);
    expect(result.report).toMatchObject({ status: 'failed', error: { code: 'STORAGE_ERROR' } });
    expect(String((result.report?.['error'] as { message: string }).message)).toContain('PostgreSQL state store postgres://exporter@127.0.0.1:1/auth0_logs');

    const service = await startServe({ ADMIN_TOKEN: ADMIN, ...env });
    const answer = await fetch(`${service.url}/run`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{}' });
    const body = await answer.text();
    service.child.kill('SIGTERM');
    await once(service.child, 'exit');
    expect(answer.status).toBe(500);
    expect(body).toContain('STORAGE_ERROR');
    expect(service.stderr()).toContain('PostgreSQL state store postgres://exporter@127.0.0.1:1/auth0_logs');
    expect(tenant.stats()).toMatchObject({ logsRequests: 0 });
    expect(await receiver.messages()).toHaveLength(0);
    for (const text of [result.stdout, result.stderr, body, service.stderr()]) expect(text).not.toContain(password);
  }, 30_000);
});

describe('runs sharing one PostgreSQL database', () => {
  it('two CLI runs at once: one ok, one skipped; nothing shipped twice', async () => {
    const tenant = await tenantWith({ count: 5_000, latencyMs: 5 });
    const url = await postgres().createDatabase();
    const env = exportEnv(tenant, receiver, { STATE_URL: url });
    const [a, b] = await Promise.all([runCli(['run'], env), runCli(['run'], env)]);
    expect([a.report?.['status'], b.report?.['status']].sort()).toEqual(['ok', 'skipped']);
    expect([a.code, b.code]).toEqual([0, 0]);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    expect(figures).toMatchObject({ expected: 5_000, delivered: 5_000, missing: 0, duplicates: 0, outOfOrder: 0 });
    const state = await readPostgresState(url);
    expect(state.runs).toHaveLength(1);
    expect(state.checkpoint).toBe(tenant.lastId());
    // Nothing was written beside the database: the SQLite default was not used.
    expect(existsSync(env.STORAGE_FILE)).toBe(false);
  }, 60_000);

  it('a CLI run killed with SIGKILL mid-drain does not block the next: its lease is void as soon as the server ends its session', async () => {
    const tenant = await tenantWith({ count: 20_000, latencyMs: 3 });
    const url = await postgres().createDatabase();
    const env = exportEnv(tenant, receiver, { STATE_URL: url });
    const victim = startCli(['run'], env);
    // Past the first shipments, so the killed run has saved a checkpoint.
    await receiver.waitForCount(2_500, 30_000);
    victim.child.kill('SIGKILL');
    await victim.done;
    // The killed run's lease is still in the table, naming its ended session; the store reads it as void.
    const client = new Client({ connectionString: url });
    await client.connect();
    const row = (await client.query<{ lease_owner: string | null; lease_session: string | null }>('SELECT lease_owner, lease_session FROM state')).rows[0];
    await client.end();
    expect(row).toMatchObject({ lease_owner: expect.any(String), lease_session: expect.any(String) });
    // The server ends the session when it sees the connection closed: moments after the kill.
    await until('the killed run\'s session to end', async () => (await readPostgresState(url)).lease === null, 5_000);
    const leased = await readPostgresState(url);

    const next = await runCli(['run'], env);
    expect(next.code).toBe(0);
    expect(next.report).toMatchObject({ status: 'ok', stoppedBy: 'caught-up', startCheckpoint: leased.checkpoint });
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    expect(figures).toMatchObject({ delivered: 20_000, missing: 0 });
    // At most the shipment in flight at the kill: PAGES_PER_SHIPMENT (the default) × BATCH_SIZE.
    expect(figures.duplicates).toBeLessThanOrEqual(DEFAULT_PAGES_PER_SHIPMENT * 100);
  }, 90_000);

  it('three serve replicas with a 1 s schedule drain 30,000 events: 0 missing, 0 duplicates, never two runs at once', async () => {
    const tenant = await tenantWith({ count: 30_000, latencyMs: 2 });
    const url = await postgres().createDatabase();
    // Started together, so they also race to create the tables. Runs of at most 5 s, so that the
    // drain takes several runs, handed from replica to replica through the shared checkpoint.
    const replicas = await Promise.all([0, 1, 2].map(() => startServe({ ADMIN_TOKEN: ADMIN, ...exportEnv(tenant, receiver, { STATE_URL: url, SCHEDULE: '* * * * * *', MAX_RUN_SECONDS: '5' }) })));
    await receiver.waitForCount(30_000, 240_000);
    // A few more ticks on every replica, which find nothing new.
    await new Promise((r) => setTimeout(r, 3_000));
    await Promise.all(replicas.map(async (r) => {
      r.child.kill('SIGTERM');
      await once(r.child, 'exit');
    }));
    const state = await readPostgresState(url);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    const ran = replicas.map((r) => (r.stderr().match(/run finished:/g) ?? []).length);
    const skipped = replicas.map((r) => (r.stderr().match(/scheduled run skipped: another run is in progress/g) ?? []).length);

    process.stdout.write(`3 replicas: ${figures.delivered} delivered, ${figures.missing} missing, ${figures.duplicates} duplicates; ${state.runs.length} runs (${state.runs.filter((r) => r.exported > 0).length} exporting), by replica ran ${ran.join('/')}, skipped ${skipped.join('/')}; overlaps ${overlaps(state.runs).length}\n`);
    expect(figures).toMatchObject({ expected: 30_000, delivered: 30_000, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
    expect(state.checkpoint).toBe(tenant.lastId());
    expect(state.lease).toBeNull();
    // As stored, not through the store's reading (which treats a lease of an ended session as none):
    // each replica released its lease when it stopped.
    expect(await storedLeaseOwner(url)).toBeNull();
    expect(state.runs.length).toBeGreaterThan(1);
    expect(state.runs.every((r) => r.status === 'ok')).toBe(true);
    expect(overlaps(state.runs)).toEqual([]);
    // Every replica took part: each ran or was turned away by another's lease.
    for (let i = 0; i < 3; i++) expect((ran[i] ?? 0) + (skipped[i] ?? 0)).toBeGreaterThan(0);
    expect(skipped.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }, 300_000);
});
