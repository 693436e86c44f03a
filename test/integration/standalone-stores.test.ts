/**
 * The contract of the standalone state stores, run against each real
 * database: SQLite (the default) and PostgreSQL (a throwaway server this file
 * starts and stops). No update is lost under concurrent writers in one
 * process or several; a lease whose holder was killed with SIGKILL does not
 * block the next run; a JSON state file of an earlier version is migrated
 * once; shipped ids are recorded, looked up and pruned; a database that
 * cannot be used fails with an error naming the store.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { StorageError } from '../../src/errors';
import type { Logger } from '../../src/ports';
import { PostgresStateStore } from '../../src/storage/postgres-state-store';
import { SqliteStateStore } from '../../src/storage/sqlite-state-store';
import type { StandaloneStore } from '../../src/storage/standalone-store';
import { systemClock } from '../../src/clock';
import { RunLease } from '../../src/storage/run-lease';
import { takeLease, type RunRecord, type StateDocument } from '../../src/storage/state';
import { until } from '../support/serve';
import { usePostgresServer } from '../support/postgres-server';

const DIST = join(__dirname, '..', '..', 'dist', 'storage');
const ORIGINAL_CHECKPOINT = '90020200101000000000000000000000000000000000000000000042';

const postgres = usePostgresServer();

const stores: StandaloneStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (line: string): void => void lines.push(line);
  return { lines, debug: add, info: add, warn: add, error: add };
}

/** One kind of store: how to make a fresh location, open a store on it, and name it in a child process. */
interface Kind {
  name: string;
  /** A fresh, empty location: a database file path or a database URL. */
  location(): Promise<string>;
  open(location: string, options?: { legacyFile?: string; log?: Logger }): StandaloneStore;
  /** JavaScript that opens the same store in another process, as `store`. */
  childOpen(location: string): string;
  /** Turns a closed database back into schema 1, as the first release wrote it (no `alerting` column, no lease generation). */
  toSchemaOne(location: string): Promise<void>;
  /** Rows in the runs table, counted with SQL of the test's own. */
  storedRuns(location: string): Promise<number>;
}

const sqlite: Kind = {
  name: 'SQLite',
  location: async () => join(mkdtempSync(join(tmpdir(), 'a0pt-sqlite-')), 'nested', 'state.db'),
  open: (file, options = {}) => new SqliteStateStore({ file, ...options }),
  childOpen: (file) => `const { SqliteStateStore } = require(${JSON.stringify(join(DIST, 'sqlite-state-store.js'))}); const store = new SqliteStateStore({ file: ${JSON.stringify(file)} });`,
  toSchemaOne: async (file) => {
    const db = new Database(file);
    try {
      for (const column of ['alerting', 'lease_generation', 'reship_after', 'reship_through', 'stream_activity']) db.exec(`ALTER TABLE state DROP COLUMN ${column}`);
      db.pragma('user_version = 1');
    } finally {
      db.close();
    }
  },
  storedRuns: async (file) => {
    const db = new Database(file, { readonly: true });
    try {
      return Number(db.prepare('SELECT count(*) FROM runs').pluck().get());
    } finally {
      db.close();
    }
  },
};
const postgresql: Kind = {
  name: 'PostgreSQL',
  location: () => postgres().createDatabase(),
  open: (url, options = {}) => new PostgresStateStore({ url, ...options }),
  childOpen: (url) => `const { PostgresStateStore } = require(${JSON.stringify(join(DIST, 'postgres-state-store.js'))}); const store = new PostgresStateStore({ url: ${JSON.stringify(url)} });`,
  toSchemaOne: async (url) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('ALTER TABLE state DROP COLUMN alerting, DROP COLUMN lease_generation, DROP COLUMN reship_after, DROP COLUMN reship_through, DROP COLUMN stream_activity');
      await client.query('UPDATE schema_version SET version = 1');
    } finally {
      await client.end();
    }
  },
  storedRuns: async (url) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM runs')).rows[0]?.n);
    } finally {
      await client.end();
    }
  },
};

function track<T extends StandaloneStore>(store: T): T {
  stores.push(store);
  return store;
}

/** README: the state keeps the last 100 runs. */
const RUNS_KEPT = 100;
/** Appends without bounding: the store must keep the history to its bound itself. */
const appendRun = (id: string) => (s: StateDocument): StateDocument => ({ ...s, runs: [...s.runs, { id } as RunRecord] });

describe.each([sqlite, postgresql])('$name state store', (kind) => {
  it('starts empty, and reads back every field it was given', async () => {
    const location = await kind.location();
    const store = track(kind.open(location));
    expect(await store.read()).toMatchObject({ checkpoint: null, lease: null, runs: [], paused: false });
    const written = await store.update((s) => ({ ...s, checkpoint: '900', startFrom: '800', lastSuccessAt: '2026-01-01T00:00:00.000Z', newestExportedDate: '2026-01-01T00:00:01.000Z', paused: true, lastOpenTriggerAt: 1234, runs: [{ id: 'r1' } as RunRecord],
      alerting: { failingSince: '2026-01-01T00:00:02.000Z', failedRuns: 3, failureCheckpoint: '850', lastFailureAlertAt: '2026-01-01T00:00:02.000Z', laggingSince: null, streamSilentSince: '2026-01-01T00:00:03.000Z', streamStatus: 'suspended', streamInactiveSince: '2026-01-01T00:00:04.000Z' } }));
    const again = track(kind.open(location));
    expect(await again.read()).toEqual(written);
  });

  it('loses no update when writers in one process interleave', async () => {
    const store = track(kind.open(await kind.location()));
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.update(appendRun(`w${i}`))));
    expect((await store.read()).runs.map((r) => r.id).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `w${i}`).sort());
  });

  it('loses no update when several processes write at once', async () => {
    const location = await kind.location();
    const worker = `${kind.childOpen(location)}
      (async () => { for (let i = 0; i < 10; i++) await store.update((s) => ({ ...s, runs: [...s.runs, { id: process.pid + '-' + i }] })); await store.close(); })()
        .catch((e) => { console.error(e); process.exit(1); });`;
    const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['-e', worker], { stdio: 'inherit' }));
    const codes = await Promise.all(children.map(async (c) => (await once(c, 'exit'))[0] as number));
    expect(codes).toEqual([0, 0, 0, 0]);
    expect((await track(kind.open(location)).read()).runs).toHaveLength(40);
  }, 60_000);

  it('opens a new database from several processes at the same moment: each of them opens it, none fails', async () => {
    // Two CLI runs started together on a first install both create the schema (SQLite: both switch it to WAL).
    for (let round = 0; round < 4; round++) {
      const location = await kind.location();
      const startAt = Date.now() + 1_000;
      const opener = `${kind.childOpen(location)}
        setTimeout(() => store.read().then(() => store.close()).catch((e) => { console.error(e.message); process.exit(1); }), ${startAt} - Date.now());`;
      const children = Array.from({ length: 5 }, () => spawn(process.execPath, ['-e', opener], { stdio: 'inherit' }));
      const codes = await Promise.all(children.map(async (c) => (await once(c, 'exit'))[0] as number));
      expect(codes).toEqual([0, 0, 0, 0, 0]);
    }
  }, 60_000);

  it('keeps the run history bounded, newest last', async () => {
    const location = await kind.location();
    const store = track(kind.open(location));
    for (let i = 0; i < RUNS_KEPT + 5; i++) await store.update(appendRun(`r${i}`));
    const runs = (await store.read()).runs.map((r) => r.id);
    expect(runs).toHaveLength(RUNS_KEPT);
    expect(runs[0]).toBe('r5');
    expect(runs.at(-1)).toBe(`r${RUNS_KEPT + 4}`);
    // And as stored, not only as read back: the table itself holds no more than the bound.
    expect(await kind.storedRuns(location)).toBe(RUNS_KEPT);
  });

  it('does not let a lease held by a process killed with SIGKILL block the next run', async () => {
    const location = await kind.location();
    const holder = `${kind.childOpen(location)}
      store.update((s) => ({ ...s, lease: { owner: 'victim', expiresAt: Date.now() + 3600000 } }))
        .then(() => { process.stdout.write('held\\n'); setInterval(() => undefined, 1000); })
        .catch((e) => { console.error(e); process.exit(1); });`;
    const child = spawn(process.execPath, ['-e', holder], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout, 'data');
    const store = track(kind.open(location));
    // While the holder lives, its lease stands.
    expect((await store.read()).lease).toMatchObject({ owner: 'victim' });
    child.kill('SIGKILL');
    await once(child, 'exit');
    await until('the dead holder\'s lease to be void', async () => (await store.read()).lease === null, 10_000);
    const next = await store.update((s) => ({ ...s, lease: { owner: 'next', expiresAt: Date.now() + 60_000 } }));
    expect(next.lease?.owner).toBe('next');
  }, 30_000);

  it('migrates a JSON state file of an earlier version once, keeps it renamed, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'a0pt-json-'));
    const legacyFile = join(dir, 'state.json');
    const runs = [{ id: 'old-run', status: 'ok' }];
    writeFileSync(legacyFile, JSON.stringify({ version: 1, checkpoint: '90077', startFrom: null, lease: { owner: 'x', expiresAt: Date.now() + 60_000 }, runs, lastSuccessAt: '2026-01-01T00:00:00.000Z', newestExportedDate: null, paused: false, lastOpenTriggerAt: null }));
    const log = logger();
    const location = await kind.location();
    const store = track(kind.open(location, { legacyFile, log }));
    expect(await store.read()).toMatchObject({ checkpoint: '90077', lease: null, runs, lastSuccessAt: '2026-01-01T00:00:00.000Z' });
    expect(existsSync(legacyFile)).toBe(false);
    expect(JSON.parse(readFileSync(`${legacyFile}.migrated`, 'utf8')).checkpoint).toBe('90077');
    expect(log.lines.join('\n')).toMatch(/migrated the JSON state file .*checkpoint 90077.*kept as .*state\.json\.migrated/);
    // Once: a later store on the same database does not import it again over newer state.
    await store.update((s) => ({ ...s, checkpoint: '90078' }));
    await store.close();
    expect((await track(kind.open(location, { legacyFile, log })).read()).checkpoint).toBe('90078');
  });

  it('upgrades a database of schema 1 in place: its checkpoint and runs stay, and alerting state can be stored', async () => {
    const location = await kind.location();
    const first = kind.open(location);
    await first.update((s) => ({ ...s, checkpoint: '90042', runs: [{ id: 'before-upgrade' } as RunRecord] }));
    await first.close();
    await kind.toSchemaOne(location);
    const upgraded = track(kind.open(location));
    expect(await upgraded.read()).toMatchObject({ checkpoint: '90042', runs: [{ id: 'before-upgrade' }] });
    const alerting = { failingSince: '2026-01-01T00:00:00.000Z', failedRuns: 1, failureCheckpoint: '90042', lastFailureAlertAt: null, laggingSince: null, streamSilentSince: null, streamStatus: null, streamInactiveSince: null };
    await upgraded.update((s) => ({ ...s, alerting }));
    await upgraded.update((s) => takeLease(s, 'after-upgrade', Date.now() + 60_000));
    await upgraded.update((s) => ({ ...s, reship: { after: '90041', through: '90042' } }));
    const streamActivity = { lastDeliveryAt: '2026-01-01T00:00:01.000Z', deliveries: 3, records: 7, shipped: 6, lastGapFillAt: null, gapFills: 0 };
    await upgraded.update((s) => ({ ...s, streamActivity }));
    await upgraded.close();
    // A second open finds schema 4 and upgrades nothing twice.
    expect(await track(kind.open(location)).read()).toMatchObject({ alerting, leaseGeneration: 1, reship: { after: '90041', through: '90042' }, streamActivity });
  });

  it("migrates the original extension's checkpointId document", async () => {
    const legacyFile = join(mkdtempSync(join(tmpdir(), 'a0pt-json-')), 'state.json');
    writeFileSync(legacyFile, JSON.stringify({ checkpointId: ORIGINAL_CHECKPOINT, logs: [] }));
    expect((await track(kind.open(await kind.location(), { legacyFile })).read()).checkpoint).toBe(ORIGINAL_CHECKPOINT);
  });

  it('refuses to guess when the JSON state file to migrate is corrupt', async () => {
    const legacyFile = join(mkdtempSync(join(tmpdir(), 'a0pt-json-')), 'state.json');
    writeFileSync(legacyFile, '{"checkpoint": "90');
    await expect(track(kind.open(await kind.location(), { legacyFile })).read()).rejects.toThrow(/not valid JSON/);
  });

  it("refuses every write of a run whose lease was taken after it, checked by the database itself: checkpoint, shipped ids, pruning", async () => {
    const location = await kind.location();
    const store = track(kind.open(location));
    // The other holder writes through its own connection, as another replica or process would.
    const other = track(kind.open(location));
    await store.update((s) => takeLease(s, 'first', Date.now() + 60_000));
    const first = new RunLease({ store, clock: systemClock, log: logger(), owner: 'first', generation: 1, ttlMs: 60_000 }, Date.now() + 60_000);
    const fenced = first.store(store);
    const fencedIds = first.shipped(store);
    await fenced.update((s) => ({ ...s, checkpoint: '90001' }));
    await fencedIds.record(['a'], 1_000);

    await other.update((s) => takeLease(s, 'second', Date.now() + 60_000));
    await expect(fenced.update((s) => ({ ...s, checkpoint: '90002' }))).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await expect(fencedIds.record(['b'], 2_000)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await expect(fencedIds.prune(Number.MAX_SAFE_INTEGER)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    // The store refuses a stale generation by itself, whoever asks.
    await expect(store.record(['c'], 3_000, 1)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(first.lost?.code).toBe('LEASE_LOST');

    expect(await other.read()).toMatchObject({ checkpoint: '90001', leaseGeneration: 2, lease: { owner: 'second' } });
    expect(await other.alreadyShipped(['a', 'b', 'c'])).toEqual(new Set(['a']));
    // The holder's own generation writes.
    await other.record(['d'], 4_000, 2);
    expect(await other.prune(1_500, 2)).toBe(1);
    expect(await other.alreadyShipped(['a', 'd'])).toEqual(new Set(['d']));
  });

  it('records shipped ids once each, answers which of a batch are shipped, and prunes by age', async () => {
    const store = track(kind.open(await kind.location()));
    await store.record(['a', 'b', 'c'], 1_000);
    await store.record(['c', 'd'], 2_000);
    await store.record([], 3_000);
    expect([...(await store.alreadyShipped(['a', 'c', 'd', 'x']))].sort()).toEqual(['a', 'c', 'd']);
    expect(await store.alreadyShipped([])).toEqual(new Set());
    expect(await store.prune(1_500)).toBe(3); // a, b and c were first recorded at 1000
    expect([...(await store.alreadyShipped(['a', 'b', 'c', 'd']))]).toEqual(['d']);
  });
});

describe('a database that cannot be used', () => {
  it('SQLite: a file that cannot be created fails with a StorageError naming the store', async () => {
    const blocker = join(mkdtempSync(join(tmpdir(), 'a0pt-sqlite-')), 'not-a-directory');
    writeFileSync(blocker, '');
    const store = track(new SqliteStateStore({ file: join(blocker, 'state.db') }));
    const error = await store.update((s) => s).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain(`SQLite state store ${join(blocker, 'state.db')}`);
  });

  it('PostgreSQL: an unreachable server fails with a StorageError naming the store, without its password', async () => {
    const url = `postgres://exporter:${postgres().password}@127.0.0.1:1/state`;
    const store = track(new PostgresStateStore({ url }));
    const error = await store.update((s) => s).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain('PostgreSQL state store postgres://exporter@127.0.0.1:1/state');
    expect((error as Error).message).not.toContain(postgres().password);
  });
});
