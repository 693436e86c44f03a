/**
 * When to alert: pure functions from (what the state document remembers,
 * what just happened) to (what it should remember now, which alerts to send).
 *
 * Alerts mark changes of state, not runs: the first failed run after a
 * success, one reminder per hour of failure, the recovery; lag going over
 * LAG_ALERT_MINUTES and back under; a log stream going silent while the
 * poller still finds new logs, and coming back. The caller applies these
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
  /** When a log stream last delivered records (ISO); null if no stream ever did. */
  lastStreamRecordAt: string | null;
  /** When the silent-stream alert was decided (ISO); null while the stream delivers. */
  streamSilentSince: string | null;
}

export function emptyAlertingState(): AlertingState {
  return { failingSince: null, failedRuns: 0, failureCheckpoint: null, lastFailureAlertAt: null, laggingSince: null, lastStreamRecordAt: null, streamSilentSince: null };
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
}

export interface AlertPolicy {
  sendSuccess: boolean;
  lagThresholdMs: number;
  /** A reminder per this much failure. */
  reminderEveryMs: number;
  /** A stream that delivered nothing for this long while the poller found new logs is silent. */
  streamSilenceMs: number;
}

export const DEFAULT_REMINDER_EVERY_MS = 60 * 60_000;
export const DEFAULT_STREAM_SILENCE_MS = 15 * 60_000;

export type Alert =
  | { kind: 'failing'; since: string; code: string; cause: string; checkpoint: string | null; trigger: string }
  | { kind: 'still-failing'; since: string; failedRuns: number; code: string; cause: string; checkpoint: string | null }
  | { kind: 'recovered'; since: string; downMs: number; failedRuns: number; caughtUp: number; pages: number; checkpoint: string | null }
  | { kind: 'lagging'; lagSeconds: number; thresholdMinutes: number; stoppedBy: string }
  | { kind: 'lag-recovered'; lagSeconds: number; laggingMs: number }
  | { kind: 'stream-silent'; lastRecordAt: string; newLogs: number }
  | { kind: 'stream-resumed'; silentMs: number }
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

  // A stream in use (it delivered before) that has been quiet for a while, while
  // the poller still found logs the stream did not deliver: the stream has stopped.
  if (state.lastStreamRecordAt !== null && state.streamSilentSince === null && run.exported > 0 && now - Date.parse(state.lastStreamRecordAt) >= policy.streamSilenceMs) {
    next.streamSilentSince = run.finishedAt;
    alerts.push({ kind: 'stream-silent', lastRecordAt: state.lastStreamRecordAt, newLogs: run.exported });
  }

  if (policy.sendSuccess && run.exported > 0) {
    alerts.push({ kind: 'run-summary', trigger: run.trigger, exported: run.exported, fetched: run.fetched, pages: run.pages, durationMs: run.durationMs, lagSeconds: lag ?? 0, checkpoint: run.checkpoint });
  }
  return { next, alerts };
}

/** Write the stream's last delivery at most this often, so a busy stream costs few state writes. */
export const STREAM_NOTE_EVERY_MS = 60_000;

/**
 * For the log-stream path: whether a delivery at `now` needs a state write
 * (the note is stale, or the stream was reported silent and has come back).
 */
export function streamDeliveryNeedsWrite(state: AlertingState, now: number): boolean {
  return state.streamSilentSince !== null || state.lastStreamRecordAt === null || now - Date.parse(state.lastStreamRecordAt) >= STREAM_NOTE_EVERY_MS;
}

/** For the log-stream path: records a delivery at `at`, and the resumption if the stream had been reported silent. */
export function decideOnStreamDelivery(state: AlertingState, at: number): Decision {
  const next: AlertingState = { ...state, lastStreamRecordAt: new Date(at).toISOString(), streamSilentSince: null };
  if (state.streamSilentSince === null) return { next, alerts: [] };
  return { next, alerts: [{ kind: 'stream-resumed', silentMs: Math.max(0, at - Date.parse(state.lastStreamRecordAt ?? state.streamSilentSince)) }] };
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
  base.lastStreamRecordAt = time(r['lastStreamRecordAt']);
  base.streamSilentSince = time(r['streamSilentSince']);
  return base;
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_CAUSE_CHARS ? `${flat.slice(0, MAX_CAUSE_CHARS - 1)}…` : flat;
}
