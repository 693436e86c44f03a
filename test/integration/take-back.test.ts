/**
 * A take-back (the last shipment was in doubt: SINK_RECEIVER_GONE) never
 * depends on the database connection that failed, and is reported only as
 * what was written. Against a real PostgreSQL server: the state store's
 * session is ended (pg_terminate_backend) at the moment of the take-back, or
 * another run takes the lease just before it; the auth0 and sink sides are
 * in-memory fakes, since what is tested is the state.
 */
import { Client } from 'pg';
import { systemClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { SinkError } from '../../src/errors';
import type { StateStore } from '../../src/ports';
import { runExport } from '../../src/run-export';
import { createRedactor } from '../../src/runtime/redact';
import { PostgresStateStore } from '../../src/storage/postgres-state-store';
import { takeLease, type StateDocument } from '../../src/storage/state';
import { CapturingLogger, FakeAuth0, logId, makeLogs, RecordingSink } from '../support/fakes';
import { usePostgresServer } from '../support/postgres-server';
import { until } from '../support/serve';

const postgres = usePostgresServer();

const stores: PostgresStateStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

const env = { AUTH0_DOMAIN: 't.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'client-secret-value', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '1', BATCH_SIZE: '5' };
const idOf = (line: string): string => (JSON.parse(line.slice(line.indexOf('{'))) as { log_id: string }).log_id;

/** Whether `change` is a take-back: it moves the checkpoint back or records pages in doubt. */
function isTakeBack(current: StateDocument, change: (s: StateDocument) => StateDocument): boolean {
  let probe: StateDocument;
  try {
    probe = change(structuredClone(current));
  } catch {
    return false;
  }
  return (current.checkpoint !== null && probe.checkpoint !== null && probe.checkpoint < current.checkpoint) || (probe.reship !== null && current.reship === null);
}

/** Runs `before` once, just before the first take-back. */
function beforeTakeBack(store: PostgresStateStore, before: () => Promise<void>): StateStore {
  let done = false;
  return {
    read: () => store.read(),
    update: async (change) => {
      if (!done && isTakeBack(await store.read(), change)) {
        done = true;
        await before();
      }
      return store.update(change);
    },
  };
}

/**
 * Ends the store's database session in the middle of the first take-back:
 * another session holds the state row, so the take-back's transaction is
 * waiting for it on the server when its session is terminated. `failures`
 * collects what that attempt failed with.
 */
function endSessionDuringTakeBack(store: PostgresStateStore, url: string, failures: unknown[]): StateStore {
  let done = false;
  return {
    read: () => store.read(),
    update: async (change) => {
      if (done || !isTakeBack(await store.read(), change)) return store.update(change);
      done = true;
      const admin = new Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query('BEGIN');
        await admin.query('SELECT 1 FROM state WHERE id = 1 FOR UPDATE');
        const attempt = store.update(change);
        attempt.catch((error: unknown) => void failures.push(error));
        let waiting: number | undefined;
        await until('the take-back to wait for the state row', async () => {
          const row = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'");
          waiting = row.rows[0]?.pid;
          return waiting !== undefined;
        }, 10_000);
        await admin.query('SELECT pg_terminate_backend($1)', [waiting]);
        await admin.query('ROLLBACK');
        return await attempt;
      } finally {
        await admin.end();
      }
    },
  };
}

async function setup() {
  const url = await postgres().createDatabase();
  const store = new PostgresStateStore({ url });
  stores.push(store);
  const auth0 = new FakeAuth0(makeLogs(25));
  const log = new CapturingLogger();
  // One page per shipment: the last shipment, the one in doubt, is the last page.
  const config = loadConfig({ ...env, STATE_URL: url, PAGES_PER_SHIPMENT: '1' });
  const redact = createRedactor(['client-secret-value']);
  const run = (sink: RecordingSink, state: StateStore = store) =>
    runExport({ store: state, shipped: store, auth0, sink, clock: systemClock, log }, config, { trigger: 'test', redact });
  const receiverGoneOnClose = (): RecordingSink => {
    const sink = new RecordingSink();
    sink.failOnClose = new SinkError('Papertrail went away right after confirming the last page.', { code: 'SINK_RECEIVER_GONE' });
    return sink;
  };
  return { url, store, run, receiverGoneOnClose };
}

describe('a take-back of pages in doubt', () => {
  it('whose database session is ended at that moment is written on a fresh connection, reported done, and the next run ships the pages again', async () => {
    const { url, store, run, receiverGoneOnClose } = await setup();
    const first = receiverGoneOnClose();
    const failures: unknown[] = [];
    const report = await run(first, endSessionDuringTakeBack(store, url, failures));
    // The first attempt died with its session; the take-back was written all the same.
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/terminat|connection/i);
    expect(report).toMatchObject({ status: 'failed', error: { code: 'SINK_RECEIVER_GONE' }, checkpoint: logId(20), takeBack: { status: 'done', after: logId(20), through: logId(25) } });
    expect(report.warnings.join(' ')).toContain('the checkpoint was moved back');
    expect(await store.read()).toMatchObject({ checkpoint: logId(20), reship: null });

    const second = new RecordingSink();
    expect(await run(second)).toMatchObject({ status: 'ok', exported: 5, checkpoint: logId(25) });
    expect(second.lines.map(idOf)).toEqual([21, 22, 23, 24, 25].map(logId));
    // Nothing missing: the first run's lines and the second's hold every event.
    expect(new Set([...first.lines, ...second.lines].map(idOf)).size).toBe(25);
  }, 60_000);

  it('made after another run took the lease is recorded as pages to ship again, reported so, and the next run ships them first', async () => {
    const { url, store, run, receiverGoneOnClose } = await setup();
    const other = new PostgresStateStore({ url });
    stores.push(other);
    const first = receiverGoneOnClose();
    const report = await run(first, beforeTakeBack(store, async () => {
      // Another replica takes the lease (its generation grows) and gives it back, leaving the checkpoint.
      await other.update((s) => ({ ...takeLease(s, 'other-replica', Date.now() + 60_000), lease: null }));
    }));
    expect(report).toMatchObject({ status: 'failed', error: { code: 'SINK_RECEIVER_GONE' }, checkpoint: logId(25), takeBack: { status: 'recorded', after: logId(20), through: logId(25) } });
    expect(report.warnings.join(' ')).toContain('recorded as to be shipped again');
    expect(await other.read()).toMatchObject({ checkpoint: logId(25), reship: { after: logId(20), through: logId(25) } });

    const second = new RecordingSink();
    const next = await run(second);
    expect(next).toMatchObject({ status: 'ok', exported: 5, checkpoint: logId(25), reshipped: { after: logId(20), through: logId(25) } });
    expect(second.lines.map(idOf)).toEqual([21, 22, 23, 24, 25].map(logId));
    expect((await store.read()).reship).toBeNull();
  }, 60_000);
});
