/**
 * A run as the outside world triggers it: take the run lease, run the
 * pipeline, append the run to the history and release the lease, then send
 * the alerts that write decided (bounded in time; see alerts/). Used by the
 * CLI, the service and the webtask alike, so all three share one lock and one
 * history in the state document.
 */
import { randomUUID } from 'node:crypto';
import { backlogLagSeconds, decideAfterRun, DEFAULT_REMINDER_EVERY_MS, type Alert, type AlertPolicy, type StreamSignal } from './alerts/alert-rules';
import { deliverAndRecord, type AlertDelivery } from './alerts/deliver-alerts';
import type { Config } from './config';
import { RunInProgressError, toErrorRecord } from './errors';
import type { LogStreamActivity, SharedStreamActivity } from './log-stream/activity';
import { noMetrics } from './ports';
import { runOnce, type RunDeps, type RunReport } from './run-once';
import type { PendingTakeBacks } from './stages/take-back';
import type { Redactor } from './runtime/redact';
import { RunLease } from './storage/run-lease';
import { appendRun, isLeaseHeld, takeLease, type RunRecord, type StateDocument } from './storage/state';

export interface RunOptions {
  trigger: string;
  redact: Redactor;
  signal?: AbortSignal;
  /** Fold runs that found nothing into one history record per idle stretch (follow mode's polls). */
  summariseIdle?: boolean;
  /**
   * When the service receives a log stream: `pollerRan` counts the run's gap
   * fills into this replica's counts; `judge`, inside the update that records
   * the run, adds them to the activity every replica shares and returns both,
   * the activity recorded with the run and judged by the alert rules. Every
   * run that polls (scheduled, follow mode, triggered) goes through here, so
   * none of their gap fills is missed, and the judgement reads the deliveries
   * of every replica, whichever ran.
   */
  logStream?: {
    pollerRan(report: RunReport): void;
    judge(shared: SharedStreamActivity | null, report: RunReport, at: number): { shared: SharedStreamActivity; activity: LogStreamActivity };
  };
  /** A service's take-backs that could not be written: retried before the run, and a run's own added to them. */
  pendingTakeBacks?: PendingTakeBacks;
}

export interface ExportResult extends RunReport {
  runId: string;
  trigger: string;
  logStream?: LogStreamActivity;
  /** The alerts this run triggered, and whether each was delivered. */
  alerts?: AlertDelivery[];
}

export async function runExport(deps: RunDeps, config: Config, options: RunOptions): Promise<ExportResult> {
  const runId = randomUUID();
  const now = deps.clock.now();
  const metrics = deps.metrics ?? noMetrics;
  let generation = 0;
  // The token's round trip overlaps taking the lease: a run's start-up counts against the rate limit. Bounded
  // well inside the run's budget; a first page that finds it out of time asks again within its own.
  deps.auth0.warmUp?.({ deadline: now + Math.min(config.maxRunMs / 2, 30_000), ...(options.signal ? { signal: options.signal } : {}) });
  if (options.pendingTakeBacks && options.pendingTakeBacks.size > 0) await options.pendingTakeBacks.flush(deps.store);
  try {
    await deps.store.update((state) => {
      const lease = state.lease;
      if (isLeaseHeld(lease, now) && lease.owner !== runId) {
        throw new RunInProgressError(`Another run holds the lease until ${new Date(lease.expiresAt).toISOString()}; this trigger did nothing.`);
      }
      // The store adds who holds it (see Lease), so that a holder's death voids it; the generation fences the run's writes.
      const next = takeLease(state, runId, now + config.leaseMs);
      generation = next.leaseGeneration;
      return next;
    });
  } catch (error) {
    if (error instanceof RunInProgressError) metrics.runFinished({ status: 'skipped', trigger: options.trigger, durationMs: 0, lagSeconds: null, finishedAt: now });
    throw error;
  }

  const lease = new RunLease({ store: deps.store, clock: deps.clock, log: deps.log, owner: runId, generation, ttlMs: config.leaseMs }, now + config.leaseMs);
  lease.start();
  let report: RunReport;
  try {
    report = await runOnce({ ...deps, lease }, config, options.signal);
  } catch (error) {
    // runOnce reports its own failures; this is a bug or a storage failure at the edges.
    report = failedReport(deps.clock.now(), now, error);
  } finally {
    // Awaited: a renewal in flight must settle before the lease is released below.
    await lease.stop();
  }
  if (report.takeBack?.status === 'pending') options.pendingTakeBacks?.add(report.takeBack);
  options.logStream?.pollerRan(report);
  const result: ExportResult = options.redact({ ...report, runId, trigger: options.trigger });
  const judgedAt = deps.clock.now();
  /** The stream judged from the shared activity as this update reads it; sets result.logStream. */
  const judgeStream = (state: StateDocument): SharedStreamActivity | null => {
    if (!options.logStream) return state.streamActivity;
    const judged = options.logStream.judge(state.streamActivity, report, judgedAt);
    result.logStream = options.redact(judged.activity);
    return judged.shared;
  };
  // Decided inside the conflict-checked write, so each change of state is alerted once
  // whatever else writes at the same time; without a notifier, alerting state stays as it was.
  let alerts: Alert[] = [];
  try {
    await deps.store.update((state) => {
      const status = result.status;
      // Its gap fills count whoever holds the lease now: they were shipped.
      const streamActivity = judgeStream(state);
      const record = toRunRecord(result);
      if (status === 'lease-lost' || !lease.holds(state)) {
        // Another run holds the lease: this one only adds its record to the history, so that it is seen,
        // and touches nothing the holder relies on (checkpoint, lease, alerting, last success).
        alerts = [];
        return { ...state, streamActivity, runs: appendRun(state.runs, record, false) };
      }
      const facts = { ...result, status, stream: streamSignal(result.logStream) };
      const decision = deps.notifier ? decideAfterRun(state.alerting, facts, alertPolicy(config)) : { next: state.alerting, alerts: [] };
      alerts = decision.alerts;
      return {
        ...state,
        lease: state.lease?.owner === runId ? null : state.lease,
        streamActivity,
        runs: appendRun(state.runs, record, options.summariseIdle ?? false),
        lastSuccessAt: result.status === 'ok' ? result.finishedAt : state.lastSuccessAt,
        alerting: decision.next,
      };
    });
  } catch (error) {
    alerts = [];
    deps.log.error(`could not record the run in the history: ${error instanceof Error ? error.message : String(error)}`);
  }
  metrics.runFinished({ status: result.status, trigger: options.trigger, durationMs: result.durationMs, lagSeconds: backlogLagSeconds(result), finishedAt: Date.parse(result.finishedAt) });
  if (deps.notifier && alerts.length > 0) {
    result.alerts = await deliverAndRecord(alerts, runId, { notifier: deps.notifier, store: deps.store, log: deps.log, metrics, redact: options.redact });
  }
  return result;
}

function alertPolicy(config: Config): AlertPolicy {
  return {
    sendSuccess: config.alerts.sendSuccess,
    lagThresholdMs: config.alerts.lagThresholdMs,
    reminderEveryMs: DEFAULT_REMINDER_EVERY_MS,
  };
}

/** The stream's activity as the alert rules read it: silent, delivering, or too early to tell (no delivery yet). */
export function streamSignal(activity: LogStreamActivity | undefined): StreamSignal | undefined {
  if (activity === undefined) return undefined;
  const silent = activity.status === 'silent' ? true : activity.status === 'ok' ? false : null;
  return { silent, lastDeliveryAt: activity.lastDeliveryAt };
}

function failedReport(finished: number, started: number, error: unknown): RunReport {
  return {
    status: 'failed', startedAt: new Date(started).toISOString(), finishedAt: new Date(finished).toISOString(), durationMs: finished - started,
    startSource: null, startCheckpoint: null, checkpoint: null, fetched: 0, exported: 0, filteredOut: 0, truncated: 0, pages: 0,
    stoppedBy: 'error', lagSeconds: null, warnings: [], error: toErrorRecord(error),
  };
}

function toRunRecord(result: ExportResult): RunRecord {
  const { runId, startSource: _startSource, error, warnings, alerts: _alerts, ...report } = result;
  return {
    id: runId,
    ...report,
    // Bounded, so one noisy run cannot push the document past webtask's 500 KB.
    warnings: warnings.slice(0, 10).map((w) => w.slice(0, 500)),
    ...(error ? { error: { ...error, message: error.message.slice(0, 2000) } } : {}),
  };
}
