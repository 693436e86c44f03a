/**
 * A run as the outside world triggers it: take the run lease, run the
 * pipeline, append the run to the history and release the lease. Used by the
 * CLI, the service and the webtask alike, so all three share one lock and one
 * history in the state document.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from './config';
import { RunInProgressError, toErrorRecord } from './errors';
import type { LogStreamActivity } from './log-stream/activity';
import { runOnce, type RunDeps, type RunReport } from './run-once';
import type { Redactor } from './runtime/redact';
import { appendRun, isLeaseHeld, type RunRecord } from './storage/state';

export interface RunOptions {
  trigger: string;
  redact: Redactor;
  signal?: AbortSignal;
  /** Fold runs that found nothing into one history record per idle stretch (follow mode's polls). */
  summariseIdle?: boolean;
  /** When the service receives a log stream: its activity, recorded with the run beside the run's gap fills. */
  logStream?: () => LogStreamActivity;
}

export interface ExportResult extends RunReport {
  runId: string;
  trigger: string;
  logStream?: LogStreamActivity;
}

/** A lease outlives the run's own budget by this much, to cover the final writes. */
const LEASE_SLACK_MS = 60_000;

export async function runExport(deps: RunDeps, config: Config, options: RunOptions): Promise<ExportResult> {
  const runId = randomUUID();
  const now = deps.clock.now();
  await deps.store.update((state) => {
    const lease = state.lease;
    if (isLeaseHeld(lease, now) && lease.owner !== runId) {
      throw new RunInProgressError(`Another run holds the lease until ${new Date(lease.expiresAt).toISOString()}; this trigger did nothing.`);
    }
    // The store adds who holds it (see Lease), so that a holder's death voids it.
    return { ...state, lease: { owner: runId, expiresAt: now + config.maxRunMs + LEASE_SLACK_MS } };
  });

  let report: RunReport;
  try {
    report = await runOnce(deps, config, options.signal);
  } catch (error) {
    // runOnce reports its own failures; this is a bug or a storage failure at the edges.
    report = failedReport(deps.clock.now(), now, error);
  }
  const result: ExportResult = options.redact({ ...report, runId, trigger: options.trigger, ...(options.logStream ? { logStream: options.logStream() } : {}) });
  const record = toRunRecord(result);
  try {
    await deps.store.update((state) => ({
      ...state,
      lease: state.lease?.owner === runId ? null : state.lease,
      runs: appendRun(state.runs, record, options.summariseIdle ?? false),
      lastSuccessAt: result.status === 'ok' ? result.finishedAt : state.lastSuccessAt,
    }));
  } catch (error) {
    deps.log.error(`could not record the run in the history: ${error instanceof Error ? error.message : String(error)}`);
  }
  return result;
}

function failedReport(finished: number, started: number, error: unknown): RunReport {
  return {
    status: 'failed', startedAt: new Date(started).toISOString(), finishedAt: new Date(finished).toISOString(), durationMs: finished - started,
    startSource: null, startCheckpoint: null, checkpoint: null, fetched: 0, exported: 0, filteredOut: 0, truncated: 0, pages: 0,
    stoppedBy: 'error', lagSeconds: null, warnings: [], error: toErrorRecord(error),
  };
}

function toRunRecord(result: ExportResult): RunRecord {
  const { runId, startSource: _startSource, error, warnings, ...report } = result;
  return {
    id: runId,
    ...report,
    // Bounded, so one noisy run cannot push the document past webtask's 500 KB.
    warnings: warnings.slice(0, 10).map((w) => w.slice(0, 500)),
    ...(error ? { error: { ...error, message: error.message.slice(0, 2000) } } : {}),
  };
}
