/**
 * The standalone default: state in an SQLite database file (better-sqlite3).
 *
 * Every change is one IMMEDIATE transaction: it takes the database's write
 * lock, reads, applies the change and writes only what changed, so two
 * processes never interleave a read-modify-write, and a process killed at
 * any moment leaves the last committed state (SQLite's journal guarantees
 * it; nothing here renames files or keeps lock files).
 *
 * The lease records the holder's pid and host. A process killed with SIGKILL
 * cannot release it, so a lease whose process no longer exists on this host
 * is read as no lease: the next run is never blocked by a dead one. Its
 * expiry still bounds a holder on another host sharing the file.
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { LeaseLostError, ShipperError, StorageError } from '../errors';
import type { Logger, ShippedIds } from '../ports';
import { readLegacyState, setAsideLegacyState } from './legacy-json';
import { changedColumns, diffRuns, documentToRow, rowToDocument, runsKey, SCHEMA_3_COLUMNS, SCHEMA_4_COLUMNS, SCHEMA_VERSION, STATE_COLUMNS, type RunsSnapshot, type StateRow } from './state-rows';
import { emptyState, type RunRecord, type StateDocument } from './state';
import type { StandaloneStore } from './standalone-store';

/** How long a change waits for another process's transaction before failing. */
const BUSY_TIMEOUT_MS = 10_000;

const SCHEMA = `
  CREATE TABLE state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checkpoint TEXT, start_from TEXT, last_success_at TEXT, newest_exported_date TEXT,
    paused INTEGER NOT NULL DEFAULT 0, last_open_trigger_at INTEGER,
    lease_owner TEXT, lease_expires_at INTEGER, lease_pid INTEGER, lease_host TEXT, lease_session TEXT,
    alerting TEXT,
    lease_generation INTEGER NOT NULL DEFAULT 0, reship_after TEXT, reship_through TEXT,
    stream_activity TEXT
  );
  CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL);
  CREATE TABLE shipped_ids (log_id TEXT PRIMARY KEY, shipped_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX shipped_ids_by_time ON shipped_ids (shipped_at);
  INSERT INTO state (id) VALUES (1);
`;

/**
 * Switches a database to WAL. The switch needs an exclusive lock, and when
 * another process is opening the same new file at that moment SQLite answers
 * SQLITE_BUSY at once, without its busy handler: two CLI runs started
 * together on a fresh database would otherwise fail one of them. So the
 * switch is retried here, within the same budget as any other wait.
 */
function enableWal(db: Database.Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() + pause > deadline) throw error;
      // A synchronous pause: opening is synchronous, and nothing else may use this connection meanwhile.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    }
  }
}

let driverChecked = false;

/**
 * better-sqlite3's native addon loads on its first database. It fails to load
 * when it was compiled for another Node version (the user switched Node after
 * installing) or never compiled (install scripts blocked); the message then
 * says what to run. Checked on an in-memory database before the state file is
 * created, so a failure leaves no empty database behind.
 */
function checkDriver(): void {
  if (driverChecked) return;
  try {
    new Database(':memory:').close();
    driverChecked = true;
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new StorageError(
      `The SQLite driver (better-sqlite3) cannot load on Node ${process.versions.node}: ${reason}. ` +
        'It is compiled for one Node version at install time: run `npm rebuild better-sqlite3` where this program is installed ' +
        '(for a global install: cd "$(npm root -g)/auth0-logs-to-papertrail" && npm rebuild better-sqlite3), or keep the state in PostgreSQL with STATE_URL.',
      { cause: error },
    );
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface SqliteStoreOptions {
  file: string;
  /** A JSON state file of an earlier version to import when the database is new (may be `file` itself). */
  legacyFile?: string | null;
  log?: Logger;
}

export class SqliteStateStore implements StandaloneStore, ShippedIds {
  readonly description: string;
  private db: Database.Database | null = null;
  /** Compiled once per connection: compiling costs more than running these small statements (a third of a page's state work). */
  private readonly statements = new Map<string, Database.Statement>();
  private runsSnapshot: RunsSnapshot = { key: '', runs: [], seqs: [] };
  private readonly host = hostname();

  constructor(private readonly options: SqliteStoreOptions) {
    this.description = `SQLite state store ${options.file}`;
  }

  async read(): Promise<StateDocument> {
    return this.use((db) => db.transaction(() => this.readDocument(db)).deferred());
  }

  async update(change: (current: StateDocument) => StateDocument): Promise<StateDocument> {
    try {
      return this.use((db) =>
        db
          .transaction(() => {
            const before = this.readDocument(db);
            const next = this.stampLease(before, change(before));
            this.write(db, before, next);
            return next;
          })
          .immediate(),
      );
    } catch (error) {
      // The transaction was rolled back: what the snapshot learnt from it is void.
      this.runsSnapshot = { key: '', runs: [], seqs: [] };
      throw error;
    }
  }

  async record(ids: readonly string[], at: number, fence?: number): Promise<void> {
    if (ids.length === 0) return;
    // One statement for the batch (`WHERE true` lets SQLite parse the upsert after a SELECT).
    this.fenced(fence, (db) => this.prepared(db, 'INSERT INTO shipped_ids (log_id, shipped_at) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT (log_id) DO NOTHING').run(at, JSON.stringify(ids)));
  }

  async alreadyShipped(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    return this.use((db) => {
      const rows = this.prepared(db, 'SELECT log_id FROM shipped_ids WHERE log_id IN (SELECT value FROM json_each(?))').pluck().all(JSON.stringify(ids)) as string[];
      return new Set(rows);
    });
  }

  async prune(before: number, fence?: number): Promise<number> {
    return this.fenced(fence, (db) => this.prepared(db, 'DELETE FROM shipped_ids WHERE shipped_at < ?').run(before).changes);
  }

  /** `work` alone, or with a fence: in one IMMEDIATE transaction that first checks the lease generation. */
  private fenced<T>(fence: number | undefined, work: (db: Database.Database) => T): T {
    if (fence === undefined) return this.use(work);
    return this.use((db) =>
      db
        .transaction(() => {
          const generation = Number(this.prepared(db, 'SELECT lease_generation FROM state WHERE id = 1').pluck().get());
          if (generation !== fence) throw new LeaseLostError(`The run lease was taken by another run (generation ${generation}, this run's ${fence}); the write was refused.`);
          return work(db);
        })
        .immediate(),
    );
  }

  async close(): Promise<void> {
    this.statements.clear();
    this.db?.close();
    this.db = null;
  }

  /** Runs `work` on the open database; any failure of the database is a StorageError naming it. */
  private use<T>(work: (db: Database.Database) => T): T {
    try {
      return work(this.open());
    } catch (error) {
      // Errors of our own (a refused lease) keep their meaning.
      if (error instanceof ShipperError) throw error;
      throw new StorageError(`${this.description}: ${(error as Error).message}`, { cause: error });
    }
  }

  private prepared(db: Database.Database, sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private open(): Database.Database {
    if (this.db) return this.db;
    const { file } = this.options;
    checkDriver();
    const legacy = setAsideLegacyState(this.options.legacyFile ?? null);
    mkdirSync(dirname(file), { recursive: true });
    const created = !existsSync(file);
    // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    closeSync(openSync(file, 'a', 0o600));
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    } catch (error) {
      // Not a database yet: leave no empty file that a later run would take for one.
      if (created) unlinkSync(file);
      throw error;
    }
    try {
      // WAL: readers (status pages) never wait for the writer. synchronous=NORMAL keeps every commit
      // across a process kill; a power cut may undo the last commits, which re-ships pages, never skips them.
      enableWal(db);
      db.pragma('synchronous = NORMAL');
      db.transaction(() => this.createSchema(db, legacy)).immediate();
    } catch (error) {
      this.statements.clear();
      db.close();
      throw error;
    }
    this.db = db;
    return db;
  }

  private createSchema(db: Database.Database, legacy: string | null): void {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new StorageError(`${this.description} was written by a newer version (schema ${version}); upgrade this program.`);
    if (version === SCHEMA_VERSION) return;
    if (version >= 1 && version <= 3) {
      // Schema 2 adds what alerting remembers between runs; schema 3 the lease's generation and the pages in doubt;
      // schema 4 the log stream's activity shared by replicas.
      if (version === 1) db.exec('ALTER TABLE state ADD COLUMN alerting TEXT');
      if (version <= 2) for (const statement of SCHEMA_3_COLUMNS) db.exec(statement);
      for (const statement of SCHEMA_4_COLUMNS) db.exec(statement);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return;
    }
    db.exec(SCHEMA);
    if (legacy !== null) {
      const imported = readLegacyState(legacy);
      this.write(db, rowToDocument(documentToRow(emptyState()), []), imported);
      this.options.log?.info(`migrated the JSON state file into ${this.options.file} (checkpoint ${imported.checkpoint ?? 'none'}, ${imported.runs.length} runs); the file is kept as ${legacy}`);
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  /** A lease taken through this store names its holder, so that its death can be seen (see above). */
  private stampLease(before: StateDocument, next: StateDocument): StateDocument {
    if (next.lease === null || next.lease.owner === before.lease?.owner) return next;
    return { ...next, lease: { ...next.lease, pid: process.pid, host: this.host } };
  }

  private readDocument(db: Database.Database): StateDocument {
    const row = this.prepared(db, `SELECT ${STATE_COLUMNS.join(', ')} FROM state WHERE id = 1`).get() as StateRow;
    // A copy of the list, of the same (frozen) records: the diff on write finds them by identity.
    const state = rowToDocument(row, [...this.readRuns(db)]);
    const lease = state.lease;
    if (lease && lease.host === this.host && lease.pid !== undefined && lease.pid !== process.pid && !isProcessAlive(lease.pid)) state.lease = null;
    return state;
  }

  private readRuns(db: Database.Database): readonly RunRecord[] {
    const shape = this.prepared(db, 'SELECT min(seq) AS first, max(seq) AS last, count(*) AS count FROM runs').get() as { first: number | null; last: number | null; count: number };
    const key = runsKey(shape.first, shape.last, shape.count);
    if (key !== this.runsSnapshot.key) {
      const rows = this.prepared(db, 'SELECT seq, record FROM runs ORDER BY seq').all() as { seq: number; record: string }[];
      this.runsSnapshot = { key, runs: rows.map((r) => Object.freeze(JSON.parse(r.record) as RunRecord)), seqs: rows.map((r) => r.seq) };
    }
    return this.runsSnapshot.runs;
  }

  private write(db: Database.Database, before: StateDocument, next: StateDocument): void {
    const nextRow = documentToRow(next);
    const columns = changedColumns(documentToRow(before), nextRow);
    if (columns.length > 0) {
      this.prepared(db, `UPDATE state SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = 1`).run(Object.fromEntries(columns.map((c) => [c, nextRow[c]])));
    }
    const { remove, append } = diffRuns(this.runsSnapshot, next.runs);
    if (remove.length === 0 && append.length === 0) return;
    const removeOne = this.prepared(db, 'DELETE FROM runs WHERE seq = ?');
    for (const seq of remove) removeOne.run(seq);
    const insert = this.prepared(db, 'INSERT INTO runs (record) VALUES (?)');
    const kept = this.runsSnapshot.seqs.filter((seq) => !remove.includes(seq));
    const seqs = [...kept, ...append.map((record) => Number(insert.run(JSON.stringify(record)).lastInsertRowid))];
    // `remove` is always a prefix of the stored history (see diffRuns).
    const runs = [...this.runsSnapshot.runs.slice(remove.length), ...append.map((r) => Object.freeze(r))];
    this.runsSnapshot = { key: runsKey(seqs[0] ?? null, seqs.at(-1) ?? null, seqs.length), runs, seqs };
  }
}
