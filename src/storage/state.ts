/**
 * The one state document shared by the CLI, the service and the webtask:
 * checkpoint, run lease, run history and what alerting remembers. Webtask
 * storage holds a single JSON document of at most 500 KB, so everything lives
 * here and the history is a bounded ring.
 */
import { normalizeSharedStream, type LogStreamActivity, type SharedStreamActivity } from '../log-stream/activity';
import { emptyAlertingState, normalizeAlertingState, type AlertingState } from '../alerts/alert-rules';
import type { AlertDelivery } from '../alerts/deliver-alerts';
import type { RunReport } from '../run-once';

export const STATE_VERSION = 1;
export const RUN_HISTORY_LIMIT = 100;

export interface Lease {
  /** Random id of the run holding the lease. */
  owner: string;
  /** Epoch ms after which the lease is void, so a crashed run never blocks the next. */
  expiresAt: number;
  /** Set by the SQLite store: a lease whose process is gone on this host is void at once. */
  pid?: number;
  host?: string;
  /** Set by the PostgreSQL store: the holder's database session; the lease is void once that session has ended. */
  session?: string;
}

/**
 * Log ids shipped but in doubt (the receiver may have read them without
 * keeping them) that a run could not take back by moving the checkpoint:
 * the next run, on any replica, ships the logs after `after` up to `through`
 * again before anything else.
 */
export interface ReshipRange {
  after: string;
  through: string;
}

/** One entry of the run history: the run's report, less what only the caller needs. */
export type RunRecord = Omit<RunReport, 'startSource' | 'stoppedBy'> & {
  id: string;
  trigger: string;
  /** A run's StopReason, or `reset` for an administrator's checkpoint reset. */
  stoppedBy: string;
  /**
   * Follow mode's idle polls (runs that found nothing), folded into this one
   * record: how many, from the first's start to the last's finish, with
   * `durationMs` their total time. Absent on ordinary runs.
   */
  idlePolls?: number;
  /** The log stream's activity when the run ended (service with a stream only). */
  logStream?: LogStreamActivity;
  /** The alerts this run triggered and whether each was delivered. */
  alerts?: AlertDelivery[];
};

export interface StateDocument {
  version: number;
  /** The `log_id` of the last log delivered (or filtered out); the next run starts after it. */
  checkpoint: string | null;
  /** The START_FROM value last applied, so that a value is applied once, not on every run. */
  startFrom: string | null;
  lease: Lease | null;
  /** Newest last. */
  runs: RunRecord[];
  lastSuccessAt: string | null;
  /** `date` of the newest event exported, for lag. */
  newestExportedDate: string | null;
  /** The service's equivalent of the extension's State switch. */
  paused: boolean;
  /** Epoch ms of the last trigger that was not authenticated, to limit how often anyone can start runs. */
  lastOpenTriggerAt: number | null;
  /** What alerting remembers between runs (failing since, lagging since, ...). */
  alerting: AlertingState;
  /**
   * The fencing token of the run lease: it grows by one each time a run takes
   * the lease and never goes back, so a run's writes can be refused once
   * another run has taken the lease after it (see storage/fence.ts).
   */
  leaseGeneration: number;
  /** Pages in doubt waiting to be shipped again; null when there are none. */
  reship: ReshipRange | null;
  /** The log stream's activity across replicas (service with a stream only); null before the first delivery or gap fill. */
  streamActivity: SharedStreamActivity | null;
}

function isIdle(run: RunRecord): boolean {
  return run.status === 'ok' && run.fetched === 0 && run.warnings.length === 0;
}

/**
 * Appends a run to the bounded history. With `foldIdle` (follow mode), a run
 * that found nothing joins the previous record when that one is an idle
 * stretch of the same trigger: polling every few seconds would otherwise
 * flush the last 100 real runs out of the history within minutes.
 */
export function appendRun(runs: readonly RunRecord[], record: RunRecord, foldIdle: boolean): RunRecord[] {
  const last = runs[runs.length - 1];
  if (foldIdle && isIdle(record) && last !== undefined && isIdle(last) && last.trigger === record.trigger) {
    const idlePolls = (last.idlePolls ?? 1) + 1;
    return [...runs.slice(0, -1), { ...record, id: last.id, startedAt: last.startedAt, durationMs: last.durationMs + record.durationMs, idlePolls }];
  }
  return [...runs, record].slice(-RUN_HISTORY_LIMIT);
}

/**
 * Whether a lease still excludes other runs: not expired. (A lease whose holder
 * is known to be gone is read as no lease by the standalone stores.)
 */
export function isLeaseHeld(lease: Lease | null, now: number): lease is Lease {
  return lease !== null && lease.expiresAt > now;
}

export function emptyState(): StateDocument {
  return {
    version: STATE_VERSION,
    checkpoint: null,
    startFrom: null,
    lease: null,
    runs: [],
    lastSuccessAt: null,
    newestExportedDate: null,
    paused: false,
    lastOpenTriggerAt: null,
    alerting: emptyAlertingState(),
    leaseGeneration: 0,
    reship: null,
    streamActivity: null,
  };
}

/** The state with the lease taken by `owner`: the generation grows, so every earlier holder's writes are refused. */
export function takeLease(state: StateDocument, owner: string, expiresAt: number): StateDocument {
  const generation = state.leaseGeneration + 1;
  return { ...state, leaseGeneration: generation, lease: { owner, expiresAt } };
}

/** Two ranges in doubt as one (the union and what lies between them: shipping more again only costs duplicates). */
export function mergeReship(a: ReshipRange | null, b: ReshipRange): ReshipRange {
  if (a === null) return b;
  return {
    after: compareLogIds(a.after, b.after) <= 0 ? a.after : b.after,
    through: compareLogIds(a.through, b.through) >= 0 ? a.through : b.through,
  };
}

/** Accepts whatever storage held (nothing, an older shape, a hand edit) and returns a well-formed document. */
export function normalizeState(raw: unknown): StateDocument {
  const base = emptyState();
  if (typeof raw !== 'object' || raw === null) return base;
  const r = raw as Record<string, unknown>;
  const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
  // The original extension stored `checkpointId`; honour it so a migrating tenant loses nothing.
  base.checkpoint = str(r['checkpoint']) ?? str(r['checkpointId']);
  base.startFrom = str(r['startFrom']);
  base.lastSuccessAt = str(r['lastSuccessAt']);
  base.newestExportedDate = str(r['newestExportedDate']);
  const lease = r['lease'] as Lease | null | undefined;
  base.lease = lease && typeof lease.owner === 'string' && typeof lease.expiresAt === 'number' ? lease : null;
  base.runs = Array.isArray(r['runs']) ? (r['runs'] as RunRecord[]).slice(-RUN_HISTORY_LIMIT) : [];
  base.paused = r['paused'] === true;
  base.lastOpenTriggerAt = typeof r['lastOpenTriggerAt'] === 'number' ? r['lastOpenTriggerAt'] : null;
  base.alerting = normalizeAlertingState(r['alerting']);
  base.leaseGeneration = typeof r['leaseGeneration'] === 'number' && Number.isSafeInteger(r['leaseGeneration']) ? r['leaseGeneration'] : 0;
  const reship = r['reship'] as Partial<ReshipRange> | null | undefined;
  base.reship = reship && typeof reship.after === 'string' && typeof reship.through === 'string' ? { after: reship.after, through: reship.through } : null;
  base.streamActivity = normalizeSharedStream(r['streamActivity']);
  return base;
}

/**
 * Orders two log ids. Auth0 `log_id`s are fixed-width decimal strings, so a
 * longer id is newer and equal lengths compare as text.
 */
export function compareLogIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
