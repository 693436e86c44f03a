/**
 * The run's report: begun when the run starts, filled in by the stages as
 * pages are saved and failures are met, and finished (timings, lag, the last
 * progress line) on every path before runOnce returns it.
 */
import type { Config } from '../config';
import type { ErrorRecord } from '../errors';
import type { Logger } from '../ports';
import type { ReshipRange } from '../storage/state';
import type { StartSource } from './read-checkpoint';
import type { TakeBack } from './take-back';

export type StopReason = 'caught-up' | 'deadline' | 'rate-limit' | 'shutdown' | 'error' | 'lease-lost';

export interface RunReport {
  /** `lease-lost`: another run took the lease; this one stopped and moved nothing (error code LEASE_LOST). */
  status: 'ok' | 'failed' | 'lease-lost';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  startSource: StartSource | null;
  startCheckpoint: string | null;
  checkpoint: string | null;
  fetched: number;
  exported: number;
  filteredOut: number;
  truncated: number;
  pages: number;
  /** Logs left out because they were already shipped (by the log stream, or by an earlier run that stopped before saving its checkpoint). */
  alreadyShipped?: number;
  stoppedBy: StopReason;
  /** Seconds between now and the newest event exported so far (by any run); null before the first. */
  lagSeconds: number | null;
  warnings: string[];
  error?: ErrorRecord;
  /** The last shipment was in doubt: whether it was taken back, recorded to be shipped again, or is still pending. */
  takeBack?: TakeBack;
  /** Pages in doubt recorded by an earlier run, which this run shipped first. */
  reshipped?: ReshipRange;
}

export function newReport(config: Config, started: number, countsAlreadyShipped: boolean): RunReport {
  return {
    status: 'ok', startedAt: new Date(started).toISOString(), finishedAt: '', durationMs: 0,
    startSource: null, startCheckpoint: null, checkpoint: null,
    fetched: 0, exported: 0, filteredOut: 0, truncated: 0, pages: 0,
    stoppedBy: 'caught-up', lagSeconds: null, warnings: [...config.warnings],
    ...(countsAlreadyShipped ? { alreadyShipped: 0 } : {}),
  };
}

/** Stamps the end of the run and logs its last progress line. */
export function finishReport(report: RunReport, started: number, finished: number, newestDate: string | null, log: Logger): RunReport {
  report.finishedAt = new Date(finished).toISOString();
  report.durationMs = finished - started;
  report.lagSeconds = newestDate === null ? null : Math.max(0, Math.round((finished - Date.parse(newestDate)) / 1000));
  if (report.status === 'ok') {
    log.info(`run finished: ${report.exported} exported, ${report.filteredOut} filtered out, ${report.pages} pages in ${report.durationMs} ms, stopped by ${report.stoppedBy}, checkpoint ${report.checkpoint}`);
  } else if (report.status === 'lease-lost') {
    log.error(`run stopped: LEASE_LOST after ${report.pages} pages (${report.exported} exported; the checkpoint it last saved is ${report.checkpoint}): ${report.error?.message ?? ''}`);
  } else {
    log.error(`run failed after ${report.pages} pages (${report.exported} exported; checkpoint stays at ${report.checkpoint}): ${report.error?.message ?? 'unknown error'}`);
  }
  return report;
}
