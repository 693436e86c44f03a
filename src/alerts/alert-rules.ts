/**
 * When to alert: pure functions from (what the state document remembers,
 * what just happened) to (what it should remember now, which alerts to send).
 *
 * Alerts mark changes of state, not runs: the first failed run after a
 * success, one reminder per hour of failure, the recovery; lag going over
 * LAG_ALERT_MINUTES and back under; a log stream going silent while the
 * poller still finds new logs, and coming back (judged by the stream's own
 * activity record and handed in with the run). The caller applies these
 * inside the store's conflict-checked update and sends only what the
 * written document decided, so two concurrent triggers never both alert
 * for the same change.
 */
import type { ErrorRecord } from '../errors';

/** What the state document keeps for alerting; plain JSON, carried by every store. */
export interface AlertingState {
  /** When the first failed run of the current failure finished (ISO); null while healthy. */
  failingSince: string | null;
  /** Failed runs since then. */
  failedRuns: number;
  /** The checkpoint when the failure began: the recovery reports what was caught up since. */
  failureCheckpoint: string | null;
  /** When the last failure alert or reminder was decided (ISO). */
  lastFailureAlertAt: string | null;
  /** When a run first ended more than LAG_ALERT_MINUTES behind (ISO); null while under. */
  laggingSince: string | null;
  /** When the silent-stream alert was decided (ISO); null while the stream delivers, or without one. */
  streamSilentSince: string | null;
  /** What Auth0 last said of a stream that left `active`; null while it is active (or never read). */
  streamStatus: 'paused' | 'suspended' | null;
  /** When the stream was first seen out of `active` (ISO); null while active. */
  streamInactiveSince: string | null;
}

export function emptyAlertingState(): AlertingState {
  return { failingSince: null, failedRuns: 0, failureCheckpoint: null, lastFailureAlertAt: null, laggingSince: null, streamSilentSince: null, streamStatus: null, streamInactiveSince: null };
}

/** What a run contributes to the decision: the fields of its (already redacted) report. */
export interface RunFacts {
  runId: string;
  trigger: string;
  status: 'ok' | 'failed';
  finishedAt: string;
  durationMs: number;
  stoppedBy: string;
  startCheckpoint: string | null;
  checkpoint: string | null;
  fetched: number;
  exported: number;
  pages: number;
  lagSeconds: number | null;
  error?: ErrorRecord | undefined;
  /** When the service receives a log stream: whether it has gone silent, as its activity judges it. */
  stream?: StreamSignal | undefined;
}

/**
 * The log stream's health as the run sees it. Silent: no delivery for longer
 * than the stream's threshold while the poller found logs the stream had not
 * delivered (Auth0 paused or suspended the stream, or its filter leaves events out).
 */
export interface StreamSignal {
  /** null: cannot tell yet (no delivery since the service started, and not silent for long enough). */
  silent: boolean | null;
  /** The last delivery (ISO); null if none since the service started. */
  lastDeliveryAt: string | null;
}

export interface AlertPolicy {
  sendSuccess: boolean;
  lagThresholdMs: number;
  /** A reminder per this much failure. */
  reminderEveryMs: number;
}

export const DEFAULT_REMINDER_EVERY_MS = 60 * 60_000;

export type Alert =
  | { kind: 'failing'; since: string; code: string; cause: string; checkpoint: string | null; trigger: string }
  | { kind: 'still-failing'; since: string; failedRuns: number; code: string; cause: string; checkpoint: string | null }
  | { kind: 'recovered'; since: string; downMs: number; failedRuns: number; caughtUp: number; pages: number; checkpoint: string | null }
  | { kind: 'lagging'; lagSeconds: number; thresholdMinutes: number; stoppedBy: string }
  | { kind: 'lag-recovered'; lagSeconds: number; laggingMs: number }
  | { kind: 'stream-silent'; lastDeliveryAt: string | null; newLogs: number }
  /** `silentMs`: from the silent alert to the run that saw the stream deliver again. */
  | { kind: 'stream-resumed'; silentMs: number }
  /** Auth0 says the stream left `active` (it sends nothing until it is active again). */
  | { kind: 'stream-inactive'; status: 'paused' | 'suspended'; stream: string; autoResume: boolean }
  /** Auth0 says the stream is `active` again; `resumedByService`: this service set it so (LOG_STREAM_AUTO_RESUME). */
  | { kind: 'stream-active'; was: 'paused' | 'suspended'; inactiveMs: number; stream: string; resumedByService: boolean }
  | { kind: 'run-summary'; trigger: string; exported: number; fetched: number; pages: number; durationMs: number; lagSeconds: number; checkpoint: string | null };

export type AlertKind = Alert['kind'];

export interface Decision {
  next: AlertingState;
  alerts: Alert[];
}

/** Longest cause quoted in an alert: enough to act on, never a page of response body. */
const MAX_CAUSE_CHARS = 300;

/**
 * How far behind the export is when a run ends: the age of the newest event
 * exported when the run stopped with logs still waiting, 0 when it caught up
 * (a quiet tenant is not behind). Null when unknown (no event exported yet).
 */
export function backlogLagSeconds(run: Pick<RunFacts, 'stoppedBy' | 'lagSeconds'>): number | null {
  if (run.stoppedBy === 'caught-up') return 0;
  return run.lagSeconds;
}

/** The backlog lag of the last successful run in `runs` (oldest first), as /metrics and /health report it; null before one that knew it. */
export function lastSuccessfulLag(runs: readonly (Pick<RunFacts, 'stoppedBy' | 'lagSeconds'> & { status: string })[]): number | null {
  const lastOk = runs.filter((r) => r.status === 'ok').at(-1);
  return lastOk === undefined ? null : backlogLagSeconds(lastOk);
}

export function decideAfterRun(state: AlertingState, run: RunFacts, policy: AlertPolicy): Decision {
  const now = Date.parse(run.finishedAt);
  const next: AlertingState = { ...state };
  const alerts: Alert[] = [];

  if (run.status === 'failed') {
    const code = run.error?.code ?? 'UNEXPECTED';
    const cause = shorten(run.error?.message ?? 'unknown error');
    if (state.failingSince === null) {
      next.failingSince = run.finishedAt;
      next.failedRuns = 1;
      next.failureCheckpoint = run.checkpoint ?? run.startCheckpoint;
      next.lastFailureAlertAt = run.finishedAt;
      alerts.push({ kind: 'failing', since: run.finishedAt, code, cause, checkpoint: next.failureCheckpoint, trigger: run.trigger });
    } else {
      next.failedRuns = state.failedRuns + 1;
      const last = Date.parse(state.lastFailureAlertAt ?? state.failingSince);
      if (now - last >= policy.reminderEveryMs) {
        next.lastFailureAlertAt = run.finishedAt;
        alerts.push({ kind: 'still-failing', since: state.failingSince, failedRuns: next.failedRuns, code, cause, checkpoint: run.checkpoint ?? run.startCheckpoint });
      }
    }
    // A failed run says nothing new about lag or the stream.
    return { next, alerts };
  }

  if (state.failingSince !== null) {
    alerts.push({
      kind: 'recovered', since: state.failingSince, downMs: Math.max(0, now - Date.parse(state.failingSince)),
      failedRuns: state.failedRuns, caughtUp: run.exported, pages: run.pages, checkpoint: run.checkpoint,
    });
    next.failingSince = null;
    next.failedRuns = 0;
    next.failureCheckpoint = null;
    next.lastFailureAlertAt = null;
  }

  const lag = backlogLagSeconds(run);
  if (lag !== null) {
    if (lag * 1000 >= policy.lagThresholdMs && state.laggingSince === null) {
      next.laggingSince = run.finishedAt;
      alerts.push({ kind: 'lagging', lagSeconds: lag, thresholdMinutes: Math.round(policy.lagThresholdMs / 60_000), stoppedBy: run.stoppedBy });
    } else if (lag * 1000 < policy.lagThresholdMs && state.laggingSince !== null) {
      next.laggingSince = null;
      alerts.push({ kind: 'lag-recovered', lagSeconds: lag, laggingMs: Math.max(0, now - Date.parse(state.laggingSince)) });
    }
  }

  if (run.stream?.silent === true && state.streamSilentSince === null) {
    next.streamSilentSince = run.finishedAt;
    alerts.push({ kind: 'stream-silent', lastDeliveryAt: run.stream.lastDeliveryAt, newLogs: run.exported });
  } else if (run.stream?.silent === false && state.streamSilentSince !== null) {
    next.streamSilentSince = null;
    alerts.push({ kind: 'stream-resumed', silentMs: Math.max(0, now - Date.parse(state.streamSilentSince)) });
  } else if (run.stream === undefined) {
    // No stream any more: nothing to be silent.
    next.streamSilentSince = null;
  }

  if (policy.sendSuccess && run.exported > 0) {
    alerts.push({ kind: 'run-summary', trigger: run.trigger, exported: run.exported, fetched: run.fetched, pages: run.pages, durationMs: run.durationMs, lagSeconds: lag ?? 0, checkpoint: run.checkpoint });
  }
  return { next, alerts };
}

/** What a reading of the stream's status in Auth0 contributes. */
export interface StreamStatusFacts {
  status: 'active' | 'paused' | 'suspended';
  /** When it was read (ISO). */
  at: string;
  /** The stream's name and id, as the alert names it. */
  stream: string;
  /** Set active by this service just now. */
  resumedByService: boolean;
  autoResume: boolean;
}

/**
 * One alert when the stream leaves `active` (naming paused or suspended), none
 * when it goes on from paused to suspended, one when it is `active` again.
 */
export function decideStreamStatus(state: AlertingState, facts: StreamStatusFacts): Decision {
  const next: AlertingState = { ...state };
  const alerts: Alert[] = [];
  if (facts.status !== 'active') {
    if (state.streamStatus === null) {
      next.streamInactiveSince = facts.at;
      alerts.push({ kind: 'stream-inactive', status: facts.status, stream: facts.stream, autoResume: facts.autoResume });
    }
    next.streamStatus = facts.status;
  } else if (state.streamStatus !== null) {
    const since = Date.parse(state.streamInactiveSince ?? facts.at);
    alerts.push({ kind: 'stream-active', was: state.streamStatus, inactiveMs: Math.max(0, Date.parse(facts.at) - since), stream: facts.stream, resumedByService: facts.resumedByService });
    next.streamStatus = null;
    next.streamInactiveSince = null;
  }
  return { next, alerts };
}

/** Reads whatever storage held into a well-formed state, dropping anything of the wrong type. */
export function normalizeAlertingState(raw: unknown): AlertingState {
  const base = emptyAlertingState();
  if (typeof raw !== 'object' || raw === null) return base;
  const r = raw as Record<string, unknown>;
  const time = (v: unknown): string | null => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : null);
  base.failingSince = time(r['failingSince']);
  base.failedRuns = base.failingSince !== null && typeof r['failedRuns'] === 'number' && Number.isFinite(r['failedRuns']) ? r['failedRuns'] : base.failingSince === null ? 0 : 1;
  base.failureCheckpoint = typeof r['failureCheckpoint'] === 'string' ? r['failureCheckpoint'] : null;
  base.lastFailureAlertAt = time(r['lastFailureAlertAt']);
  base.laggingSince = time(r['laggingSince']);
  base.streamSilentSince = time(r['streamSilentSince']);
  base.streamStatus = r['streamStatus'] === 'paused' || r['streamStatus'] === 'suspended' ? r['streamStatus'] : null;
  base.streamInactiveSince = base.streamStatus === null ? null : (time(r['streamInactiveSince']) ?? null);
  return base;
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_CAUSE_CHARS ? `${flat.slice(0, MAX_CAUSE_CHARS - 1)}…` : flat;
}
