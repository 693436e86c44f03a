/**
 * Reads the exporter's stored state from outside, while it may be running:
 * an SQLite state database (read in one read transaction, so a read sees one
 * committed version) or a JSON document such as the webtask host's storage
 * file (rewritten in place, so a read may see it half-written: such reads
 * give undefined).
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import type { AlertingState } from '../../src/alerts/alert-rules';
import type { Lease, RunRecord, StateDocument } from '../../src/storage/state';

/*
 * The rows are decoded here, column by column, rather than with the store's
 * own row-to-document function: a store that wrote a column wrongly and read
 * it back the same wrong way would otherwise look right. The columns are those
 * of the `state` table (one row, id 1) and the `runs` table (one JSON record a
 * row, oldest first); SQL drivers may give integer columns as text.
 */
interface Row {
  checkpoint: string | null;
  start_from: string | null;
  last_success_at: string | null;
  newest_exported_date: string | null;
  paused: number | string;
  last_open_trigger_at: number | string | null;
  lease_owner: string | null;
  lease_expires_at: number | string | null;
  lease_pid: number | string | null;
  lease_host: string | null;
  lease_session: string | null;
  alerting: string | null;
  lease_generation: number | string | null;
  reship_after: string | null;
  reship_through: string | null;
  stream_activity: string | null;
}

const COLUMNS = [
  'checkpoint', 'start_from', 'last_success_at', 'newest_exported_date', 'paused', 'last_open_trigger_at',
  'lease_owner', 'lease_expires_at', 'lease_pid', 'lease_host', 'lease_session', 'alerting',
  'lease_generation', 'reship_after', 'reship_through', 'stream_activity',
].join(', ');

function decodeRow(row: Row, runs: RunRecord[]): StateDocument {
  const n = (v: number | string | null): number | null => (v === null ? null : Number(v));
  let lease: Lease | null = null;
  if (row.lease_owner !== null && row.lease_expires_at !== null) {
    lease = { owner: row.lease_owner, expiresAt: Number(row.lease_expires_at) };
    if (row.lease_pid !== null) lease.pid = Number(row.lease_pid);
    if (row.lease_host !== null) lease.host = row.lease_host;
    if (row.lease_session !== null) lease.session = row.lease_session;
  }
  return {
    version: 1,
    checkpoint: row.checkpoint,
    startFrom: row.start_from,
    lease,
    runs,
    lastSuccessAt: row.last_success_at,
    newestExportedDate: row.newest_exported_date,
    paused: Number(row.paused) !== 0,
    lastOpenTriggerAt: n(row.last_open_trigger_at),
    alerting: (row.alerting === null ? {} : JSON.parse(row.alerting)) as AlertingState,
    leaseGeneration: Number(row.lease_generation ?? 0),
    reship: row.reship_after !== null && row.reship_through !== null ? { after: row.reship_after, through: row.reship_through } : null,
    streamActivity: (row.stream_activity === null ? null : JSON.parse(row.stream_activity)) as StateDocument['streamActivity'],
  };
}

/** A JSON state document (the webtask host's storage) as written: the fields it holds, nothing filled in by the product. */
function decodeDocument(raw: unknown): StateDocument | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const doc = raw as Partial<StateDocument>;
  return {
    version: doc.version ?? 1,
    checkpoint: doc.checkpoint ?? null,
    startFrom: doc.startFrom ?? null,
    lease: doc.lease ?? null,
    runs: doc.runs ?? [],
    lastSuccessAt: doc.lastSuccessAt ?? null,
    newestExportedDate: doc.newestExportedDate ?? null,
    paused: doc.paused === true,
    lastOpenTriggerAt: doc.lastOpenTriggerAt ?? null,
    alerting: doc.alerting ?? ({} as AlertingState),
    leaseGeneration: doc.leaseGeneration ?? 0,
    reship: doc.reship ?? null,
    streamActivity: doc.streamActivity ?? null,
  };
}

function isSqlite(file: string): boolean | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const header = Buffer.alloc(16);
    return readSync(fd, header, 0, 16, 0) === 16 && header.toString('latin1') === 'SQLite format 3\u0000';
  } finally {
    closeSync(fd);
  }
}

/** The state as stored, or undefined when there is none (yet) or it is mid-write. */
export function tryReadStoredState(file: string): StateDocument | undefined {
  const sqlite = isSqlite(file);
  if (sqlite === undefined) return undefined;
  if (sqlite) {
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
      const read = db.transaction(() => {
        const row = db?.prepare(`SELECT ${COLUMNS} FROM state WHERE id = 1`).get() as Row | undefined;
        const runs = (db?.prepare('SELECT record FROM runs ORDER BY seq').pluck().all() as string[]).map((r) => JSON.parse(r) as RunRecord);
        return row === undefined ? undefined : decodeRow(row, runs);
      });
      return read();
    } catch {
      // Created but its tables not yet: nothing stored yet.
      return undefined;
    } finally {
      db?.close();
    }
  }
  try {
    return decodeDocument(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

export function readStoredState(file: string): StateDocument {
  const state = tryReadStoredState(file);
  if (state === undefined) throw new Error(`no readable state in ${file}`);
  return state;
}

/** The shipped ids recorded in an SQLite state database. */
export function readShippedIds(file: string): Map<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT log_id, shipped_at FROM shipped_ids').all() as { log_id: string; shipped_at: number }[];
    return new Map(rows.map((r) => [r.log_id, r.shipped_at]));
  } finally {
    db.close();
  }
}
