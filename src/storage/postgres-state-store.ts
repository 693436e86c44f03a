/**
 * State in PostgreSQL (STATE_URL), for several replicas of the service and
 * cron-driven runs sharing one checkpoint, one lease, one run history and one
 * record of shipped ids.
 *
 * Every change is one transaction that locks the single state row
 * (SELECT … FOR UPDATE), so read-modify-writes from any number of processes
 * are serialized, as SQLite's write lock serializes them on one machine.
 *
 * Each process uses one connection, and a lease it takes names that
 * connection's server session (backend pid and start time). A process killed
 * with SIGKILL loses its connection and the server ends the session, so a
 * lease whose session no longer exists is read as no lease: the next run, on
 * any replica, is not blocked by a dead one. The lease's expiry bounds a
 * holder whose connection hangs without closing.
 */
import { Client } from 'pg';
import { LeaseLostError, ShipperError, StorageError } from '../errors';
import type { Logger, ShippedIds } from '../ports';
import { readLegacyState, setAsideLegacyState } from './legacy-json';
import { changedColumns, diffRuns, documentToRow, rowToDocument, runsKey, SCHEMA_3_COLUMNS, SCHEMA_4_COLUMNS, SCHEMA_VERSION, STATE_COLUMNS, type RunsSnapshot, type StateRow } from './state-rows';
import { emptyState, type RunRecord, type StateDocument } from './state';
import type { StandaloneStore } from './standalone-store';

/** Taken while creating the tables, so that replicas starting together create them once. */
const SCHEMA_LOCK = 0x61307074; // "a0pt"
const CONNECT_TIMEOUT_MS = 10_000;
/** A statement waiting this long for a lock (another replica's transaction) fails instead of hanging. */
const LOCK_TIMEOUT_MS = 10_000;

const SCHEMA = `
  CREATE TABLE schema_version (version integer NOT NULL);
  CREATE TABLE state (
    id smallint PRIMARY KEY CHECK (id = 1),
    checkpoint text, start_from text, last_success_at text, newest_exported_date text,
    paused smallint NOT NULL DEFAULT 0, last_open_trigger_at bigint,
    lease_owner text, lease_expires_at bigint, lease_pid integer, lease_host text, lease_session text,
    alerting text,
    lease_generation bigint NOT NULL DEFAULT 0, reship_after text, reship_through text,
    stream_activity text
  );
  CREATE TABLE runs (seq bigserial PRIMARY KEY, record text NOT NULL);
  CREATE TABLE shipped_ids (log_id text PRIMARY KEY, shipped_at bigint NOT NULL);
  CREATE INDEX shipped_ids_by_time ON shipped_ids (shipped_at);
  INSERT INTO state (id) VALUES (1);
`;

/** Try every id's lock; if any is taken elsewhere, give back the ones this call took (all or nothing). */
const TRY_HOLD = `
  WITH tried AS MATERIALIZED (
    SELECT k, pg_try_advisory_lock(k) AS ok
    FROM (SELECT DISTINCT hashtextextended(id, 0) AS k FROM unnest($1::text[]) AS id) AS keys
  ), given_back AS MATERIALIZED (
    SELECT pg_advisory_unlock(k) FROM tried WHERE ok AND EXISTS (SELECT 1 FROM tried WHERE NOT ok)
  )
  SELECT bool_and(ok) AS ok, (SELECT count(*) FROM given_back) AS given_back FROM tried`;
const RELEASE = 'SELECT pg_advisory_unlock(k) FROM (SELECT DISTINCT hashtextextended(id, 0) AS k FROM unnest($1::text[]) AS id) AS keys';
/** Longest pause between tries of a hold another process is in the way of. */
const HOLD_RETRY_MAX_MS = 100;

/** "postgres://user@host:port/db", without the password, to name the store in messages. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL state store ${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'PostgreSQL state store (STATE_URL)';
  }
}

export interface PostgresStoreOptions {
  url: string;
  legacyFile?: string | null;
  log?: Logger;
}

export class PostgresStateStore implements StandaloneStore, ShippedIds {
  readonly description: string;
  private client: Promise<{ client: Client; session: string }> | null = null;
  /** The connection `client` resolved to, once it has. */
  private live: Client | null = null;
  /** Transactions of this process, one at a time on its one connection. */
  private queue: Promise<unknown> = Promise.resolve();
  private runsSnapshot: RunsSnapshot = { key: '', runs: [], seqs: [] };
  /** Sessions this process has had: its leases survive a reconnection. */
  private readonly ownSessions = new Set<string>();

  constructor(private readonly options: PostgresStoreOptions) {
    this.description = describePostgresUrl(options.url);
  }

  read(): Promise<StateDocument> {
    // One snapshot for the row and the history (changes hold the row lock instead).
    return this.transaction(async (client) => this.readDocument(client, false), 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  update(change: (current: StateDocument) => StateDocument): Promise<StateDocument> {
    return this.transaction(async (client, session) => {
      const before = await this.readDocument(client, true);
      const next = this.stampLease(before, change(before), session);
      await this.write(client, before, next);
      return next;
    });
  }

  async record(ids: readonly string[], at: number, fence?: number): Promise<void> {
    if (ids.length === 0) return;
    if (fence === undefined) {
      await this.statement((client) => client.query('INSERT INTO shipped_ids (log_id, shipped_at) SELECT unnest($1::text[]), $2 ON CONFLICT (log_id) DO NOTHING', [ids, at]));
      return;
    }
    await this.fencedStatement(fence, 'INSERT INTO shipped_ids (log_id, shipped_at) SELECT unnest($1::text[]), $2 WHERE (SELECT held FROM fence) ON CONFLICT (log_id) DO NOTHING RETURNING 1', [ids, at]);
  }

  async alreadyShipped(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const result = await this.statement((client) => client.query<{ log_id: string }>('SELECT log_id FROM shipped_ids WHERE log_id = ANY($1::text[])', [ids]));
    return new Set(result.rows.map((r) => r.log_id));
  }

  async prune(before: number, fence?: number): Promise<number> {
    if (fence === undefined) {
      const result = await this.statement((client) => client.query('DELETE FROM shipped_ids WHERE shipped_at < $1', [before]));
      return result.rowCount ?? 0;
    }
    return this.fencedStatement(fence, 'DELETE FROM shipped_ids WHERE shipped_at < $1 AND (SELECT held FROM fence) RETURNING 1', [before]);
  }

  /**
   * `write` (which reads `fence.held`) as one statement with the lease check:
   * FOR SHARE keeps the state row, so the lease, from changing until the
   * statement's transaction ends. Returns how many rows `write` touched.
   */
  private async fencedStatement(fence: number, write: string, values: unknown[]): Promise<number> {
    const n = values.length + 1;
    const sql = `WITH fence AS MATERIALIZED (SELECT lease_generation, lease_generation = $${n} AS held FROM state WHERE id = 1 FOR SHARE), written AS (${write})
      SELECT (SELECT lease_generation FROM fence) AS generation, (SELECT held FROM fence) AS held, (SELECT count(*) FROM written) AS count`;
    const result = await this.statement((client) => client.query<{ generation: string; held: boolean; count: string }>(sql, [...values, fence]));
    const row = result.rows[0];
    if (row?.held !== true) throw new LeaseLostError(`The run lease was taken by another run (generation ${row?.generation ?? 'unknown'}, this run's ${fence}); the write was refused.`);
    return Number(row.count);
  }

  /**
   * Holds ids across every process sharing the database (replicas of `serve`
   * behind one URL receiving one log stream): a session-level advisory lock
   * per id, keyed by a 64-bit hash of it. All are tried at once without
   * waiting; if another process holds any, those taken are given back in the
   * same statement and the set is tried again shortly. So no holder waits
   * while holding, and this process's one connection never blocks on a lock.
   * A replica that dies loses its session and its holds with it.
   */
  async hold(ids: readonly string[]): Promise<void> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return;
    for (let attempt = 0; ; attempt++) {
      const tried = await this.statement((client) => client.query<{ ok: boolean }>(TRY_HOLD, [unique]));
      if (tried.rows[0]?.ok === true) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(HOLD_RETRY_MAX_MS, 5 * 2 ** attempt)));
    }
  }

  release(ids: readonly string[]): void {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return;
    // Queued behind this process's other statements; a lost connection has released them anyway.
    this.statement((client) => client.query(RELEASE, [unique])).catch((error: unknown) => {
      this.options.log?.warn(`could not release held log ids: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  async close(): Promise<void> {
    const pending = this.client;
    this.client = null;
    if (pending) await pending.then(({ client }) => client.end()).catch(() => undefined);
  }

  /** One statement, a transaction of its own (no BEGIN/COMMIT round trips). */
  private statement<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return this.serialized(async () => {
      const { client } = await this.connected();
      try {
        return await work(client);
      } catch (error) {
        if (error instanceof ShipperError) throw error;
        this.discardIfBroken(client, error);
        throw this.storageError(error);
      }
    });
  }

  /** One transaction at a time on this process's connection; any database failure is a StorageError naming the store. */
  private transaction<T>(work: (client: Client, session: string) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    return this.serialized(async () => {
      const { client, session } = await this.connected();
      try {
        await client.query(begin);
        const result = await work(client, session);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        this.runsSnapshot = { key: '', runs: [], seqs: [] };
        if (error instanceof ShipperError) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
        this.discardIfBroken(client, error);
        await client.query('ROLLBACK').catch(() => undefined);
        throw this.storageError(error);
      }
    });
  }

  /**
   * A failure that is not the server's answer to a statement (the connection
   * was reset, timed out, or its session was ended) leaves a connection no
   * later statement should trust: the next one opens a fresh connection
   * instead of meeting the same dead one (a take-back retried on it would fail again).
   */
  private discardIfBroken(client: Client, error: unknown): void {
    const code = (error as { code?: unknown } | null)?.code;
    const answered = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57P');
    if (answered || this.live !== client) return;
    this.live = null;
    this.client = null;
    client.end().catch(() => undefined);
  }

  private serialized<T>(run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async connected(): Promise<{ client: Client; session: string }> {
    try {
      return await this.connect();
    } catch (error) {
      throw error instanceof ShipperError ? error : this.storageError(error);
    }
  }

  private storageError(error: unknown): StorageError {
    // pg's messages name hosts and users, never the password; the redactor guards the rest.
    return new StorageError(`${this.description}: ${(error as Error).message || String(error)}`, { cause: error });
  }

  private connect(): Promise<{ client: Client; session: string }> {
    if (this.client) return this.client;
    const attempt = (async () => {
      const client = new Client({ connectionString: this.options.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
      // A broken connection is replaced on next use; the error itself surfaces through the query that meets it.
      client.on('error', () => {
        if (this.client === attempt) this.client = null;
      });
      client.on('end', () => {
        if (this.client === attempt) this.client = null;
      });
      try {
        await client.connect();
        await client.query(`SET lock_timeout = ${LOCK_TIMEOUT_MS}`);
        const row = await client.query<{ session: string }>("SELECT pid || '@' || backend_start::text AS session FROM pg_stat_activity WHERE pid = pg_backend_pid()");
        const session = row.rows[0]?.session ?? String(Math.random());
        await this.createSchema(client);
        this.ownSessions.add(session);
        return { client, session };
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
    })();
    this.client = attempt;
    // Registered before any caller's await, so `live` is known before the first statement runs.
    attempt.then(
      ({ client }) => {
        if (this.client === attempt) this.live = client;
      },
      () => {
        if (this.client === attempt) this.client = null;
      },
    );
    return attempt;
  }

  private async createSchema(client: Client): Promise<void> {
    const exists = await client.query("SELECT 1 FROM pg_tables WHERE tablename = 'schema_version' AND schemaname = current_schema()");
    if (exists.rowCount === 0) {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        const again = await client.query("SELECT 1 FROM pg_tables WHERE tablename = 'schema_version' AND schemaname = current_schema()");
        if (again.rowCount === 0) {
          await client.query(SCHEMA);
          await client.query('INSERT INTO schema_version (version) VALUES ($1)', [SCHEMA_VERSION]);
          const legacy = setAsideLegacyState(this.options.legacyFile ?? null);
          if (legacy !== null) {
            const imported = readLegacyState(legacy);
            await this.write(client, rowToDocument(documentToRow(emptyState()), []), imported);
            this.options.log?.info(`migrated the JSON state file into ${this.description} (checkpoint ${imported.checkpoint ?? 'none'}, ${imported.runs.length} runs); the file is kept as ${legacy}`);
          }
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }
    let version = Number((await client.query<{ version: number }>('SELECT max(version) AS version FROM schema_version')).rows[0]?.version);
    if (version >= 1 && version <= 3) {
      // Schema 2 adds what alerting remembers between runs; schema 3 the lease's generation and the pages in doubt;
      // schema 4 the log stream's activity shared by replicas. IF NOT EXISTS: another replica may have added some.
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        await client.query('ALTER TABLE state ADD COLUMN IF NOT EXISTS alerting text');
        for (const statement of [...SCHEMA_3_COLUMNS, ...SCHEMA_4_COLUMNS]) await client.query(statement.replace('ADD COLUMN', 'ADD COLUMN IF NOT EXISTS'));
        await client.query('INSERT INTO schema_version (version) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM schema_version WHERE version = $1)', [SCHEMA_VERSION]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      version = SCHEMA_VERSION;
    }
    if (version > SCHEMA_VERSION) throw new StorageError(`${this.description} was written by a newer version (schema ${version}); upgrade this program.`);
  }

  private stampLease(before: StateDocument, next: StateDocument, session: string): StateDocument {
    if (next.lease === null) return next;
    if (next.lease.owner !== before.lease?.owner || (next.lease.session !== undefined && next.lease.session !== session && this.ownSessions.has(next.lease.session))) {
      return { ...next, lease: { ...next.lease, session } };
    }
    return next;
  }

  private async readDocument(client: Client, forUpdate: boolean): Promise<StateDocument> {
    const row = (await client.query<StateRow>(`SELECT ${STATE_COLUMNS.join(', ')} FROM state WHERE id = 1${forUpdate ? ' FOR UPDATE' : ''}`)).rows[0];
    if (!row) throw new StorageError(`${this.description}: the state row is missing; was the table emptied by hand?`);
    const state = rowToDocument(row, [...(await this.readRuns(client))]);
    const session = state.lease?.session;
    if (session !== undefined && !this.ownSessions.has(session)) {
      const alive = await client.query("SELECT 1 FROM pg_stat_activity WHERE pid || '@' || backend_start::text = $1", [session]);
      if (alive.rowCount === 0) state.lease = null;
    }
    return state;
  }

  private async readRuns(client: Client): Promise<readonly RunRecord[]> {
    const shape = (await client.query<{ first: string | null; last: string | null; count: string }>('SELECT min(seq) AS first, max(seq) AS last, count(*) AS count FROM runs')).rows[0];
    const key = runsKey(shape?.first ?? null, shape?.last ?? null, shape?.count ?? 0);
    if (key !== this.runsSnapshot.key) {
      const rows = (await client.query<{ seq: string; record: string }>('SELECT seq, record FROM runs ORDER BY seq')).rows;
      this.runsSnapshot = { key, runs: rows.map((r) => Object.freeze(JSON.parse(r.record) as RunRecord)), seqs: rows.map((r) => Number(r.seq)) };
    }
    return this.runsSnapshot.runs;
  }

  private async write(client: Client, before: StateDocument, next: StateDocument): Promise<void> {
    const nextRow = documentToRow(next);
    const columns = changedColumns(documentToRow(before), nextRow);
    if (columns.length > 0) {
      await client.query(`UPDATE state SET ${columns.map((c, i) => `${c} = $${i + 1}`).join(', ')} WHERE id = 1`, columns.map((c) => nextRow[c]));
    }
    const { remove, append } = diffRuns(this.runsSnapshot, next.runs);
    if (remove.length === 0 && append.length === 0) return;
    if (remove.length > 0) await client.query('DELETE FROM runs WHERE seq = ANY($1::bigint[])', [remove]);
    const inserted = append.length === 0 ? [] : (await client.query<{ seq: string }>('INSERT INTO runs (record) SELECT unnest($1::text[]) RETURNING seq', [append.map((r) => JSON.stringify(r))])).rows.map((r) => Number(r.seq));
    const seqs = [...this.runsSnapshot.seqs.slice(remove.length), ...inserted.sort((a, b) => a - b)];
    const runs = [...this.runsSnapshot.runs.slice(remove.length), ...append.map((r) => Object.freeze(r))];
    this.runsSnapshot = { key: runsKey(seqs[0] ?? null, seqs.at(-1) ?? null, seqs.length), runs, seqs };
  }
}
