/**
 * The state document as SQL rows, shared by the SQLite and PostgreSQL stores.
 *
 * One row holds the checkpoint, the lease and the other scalar fields; the
 * run history is a table of one row per run (the record as JSON text). An
 * update writes only what changed: a page's checkpoint save is one UPDATE of
 * one row, whatever the size of the history, and appending a run is one
 * INSERT (plus the DELETE of the oldest beyond the bound).
 */
import { normalizeAlertingState } from '../alerts/alert-rules';
import { normalizeSharedStream } from '../log-stream/activity';
import { RUN_HISTORY_LIMIT, STATE_VERSION, type Lease, type RunRecord, type StateDocument } from './state';

/** The version of the tables; a store refuses a database written by a newer one. */
export const SCHEMA_VERSION = 4;

export interface StateRow {
  checkpoint: string | null;
  start_from: string | null;
  last_success_at: string | null;
  newest_exported_date: string | null;
  paused: number;
  last_open_trigger_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  lease_pid: number | null;
  lease_host: string | null;
  lease_session: string | null;
  /** What alerting remembers (JSON); schema 2. */
  alerting: string | null;
  /** The lease's fencing token (see StateDocument.leaseGeneration); schema 3. */
  lease_generation: number;
  /** Pages in doubt waiting to be shipped again; schema 3. */
  reship_after: string | null;
  reship_through: string | null;
  /** The log stream's activity across replicas (JSON); schema 4. */
  stream_activity: string | null;
}

export const STATE_COLUMNS: readonly (keyof StateRow)[] = [
  'checkpoint', 'start_from', 'last_success_at', 'newest_exported_date', 'paused', 'last_open_trigger_at',
  'lease_owner', 'lease_expires_at', 'lease_pid', 'lease_host', 'lease_session', 'alerting',
  'lease_generation', 'reship_after', 'reship_through', 'stream_activity',
];

/** What schema 3 adds to a schema 2 state table (the same text for SQLite and PostgreSQL). */
export const SCHEMA_3_COLUMNS = [
  'ALTER TABLE state ADD COLUMN lease_generation bigint NOT NULL DEFAULT 0',
  'ALTER TABLE state ADD COLUMN reship_after text',
  'ALTER TABLE state ADD COLUMN reship_through text',
];

/** What schema 4 adds to a schema 3 state table (the same text for SQLite and PostgreSQL). */
export const SCHEMA_4_COLUMNS = ['ALTER TABLE state ADD COLUMN stream_activity text'];

/** SQL drivers hand back bigint columns as strings or numbers; the document holds numbers. */
function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function rowToDocument(row: StateRow, runs: RunRecord[]): StateDocument {
  const lease: Lease | null =
    row.lease_owner === null || row.lease_expires_at === null
      ? null
      : {
          owner: row.lease_owner,
          expiresAt: Number(row.lease_expires_at),
          ...(row.lease_pid !== null ? { pid: Number(row.lease_pid) } : {}),
          ...(row.lease_host !== null ? { host: row.lease_host } : {}),
          ...(row.lease_session !== null ? { session: row.lease_session } : {}),
        };
  return {
    version: STATE_VERSION,
    checkpoint: row.checkpoint,
    startFrom: row.start_from,
    lease,
    runs,
    lastSuccessAt: row.last_success_at,
    newestExportedDate: row.newest_exported_date,
    paused: Boolean(Number(row.paused)),
    lastOpenTriggerAt: num(row.last_open_trigger_at),
    alerting: normalizeAlertingState(parseJson(row.alerting)),
    leaseGeneration: Number(row.lease_generation ?? 0),
    reship: row.reship_after !== null && row.reship_through !== null ? { after: row.reship_after, through: row.reship_through } : null,
    streamActivity: normalizeSharedStream(parseJson(row.stream_activity ?? null)),
  };
}

export function documentToRow(state: StateDocument): StateRow {
  return {
    checkpoint: state.checkpoint,
    start_from: state.startFrom,
    last_success_at: state.lastSuccessAt,
    newest_exported_date: state.newestExportedDate,
    paused: state.paused ? 1 : 0,
    last_open_trigger_at: state.lastOpenTriggerAt,
    lease_owner: state.lease?.owner ?? null,
    lease_expires_at: state.lease?.expiresAt ?? null,
    lease_pid: state.lease?.pid ?? null,
    lease_host: state.lease?.host ?? null,
    lease_session: state.lease?.session ?? null,
    alerting: JSON.stringify(state.alerting),
    lease_generation: state.leaseGeneration,
    reship_after: state.reship?.after ?? null,
    reship_through: state.reship?.through ?? null,
    stream_activity: state.streamActivity === null ? null : JSON.stringify(state.streamActivity),
  };
}

/** The columns whose values differ, for an UPDATE of only those. */
export function changedColumns(before: StateRow, after: StateRow): (keyof StateRow)[] {
  return STATE_COLUMNS.filter((column) => (NUMERIC.has(column) ? num(before[column]) !== num(after[column]) : before[column] !== after[column]));
}

const NUMERIC: ReadonlySet<keyof StateRow> = new Set(['paused', 'last_open_trigger_at', 'lease_expires_at', 'lease_pid', 'lease_generation']);

/**
 * The run history as last read, with each record's row number. Records are
 * never changed once written, so while the table's (first, last, count) are
 * unchanged the parsed records can be reused instead of read again.
 */
export interface RunsSnapshot {
  key: string;
  runs: readonly RunRecord[];
  seqs: readonly number[];
}

export function runsKey(first: unknown, last: unknown, count: unknown): string {
  return `${String(first)}:${String(last)}:${String(count)}`;
}

export interface RunsChange {
  /** Row numbers to delete. */
  remove: number[];
  /** Records to append, oldest first. */
  append: RunRecord[];
}

/**
 * What turns the stored history into `next`. The usual changes (a run
 * appended, the oldest dropped) are found by identity: `next` keeps the
 * stored records it did not drop. Anything else rewrites the history.
 */
export function diffRuns(stored: RunsSnapshot, next: readonly RunRecord[]): RunsChange {
  const bounded = next.slice(-RUN_HISTORY_LIMIT);
  if (bounded === stored.runs || (bounded.length === stored.runs.length && bounded.every((r, i) => r === stored.runs[i]))) return { remove: [], append: [] };
  const first = bounded.length > 0 ? stored.runs.indexOf(bounded[0] as RunRecord) : -1;
  if (first >= 0) {
    const kept = stored.runs.length - first;
    if (kept <= bounded.length && bounded.slice(0, kept).every((r, i) => r === stored.runs[first + i])) {
      return { remove: stored.seqs.slice(0, first), append: bounded.slice(kept) };
    }
  }
  return { remove: [...stored.seqs], append: [...bounded] };
}
