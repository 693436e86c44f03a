/**
 * What `/health` and the run history say about the log stream: its last
 * delivery, request and record counts, redeliveries skipped, and what the
 * poller had to fill in. Counted per process since it started (each replica
 * reports its own deliveries).
 *
 * A stream that has been silent for longer than the threshold while the
 * poller found logs it had not delivered is unhealthy: Auth0 has probably
 * paused or suspended it, or its category filter leaves events out.
 */
import type { StreamWatchSnapshot } from './stream-watch';

export type LogStreamMode = 'hybrid' | 'stream-only';

export interface LogStreamActivity {
  mode: LogStreamMode;
  status: 'ok' | 'waiting' | 'silent';
  problem?: string;
  lastDeliveryAt: string | null;
  requests: number;
  /** Requests answered 2xx. */
  delivered: number;
  /** Requests answered 503 (the sink or the record of shipped ids failed); Auth0 sends them again. */
  failed: number;
  /** Requests refused: 401, 400, 413. */
  rejected: number;
  records: number;
  shipped: number;
  filteredOut: number;
  /** Records skipped because their id was already shipped (Auth0's redeliveries, or the poller got there first). */
  redeliveriesSkipped: number;
  withoutLogId: number;
  /** Logs the poller shipped that the stream had not delivered (since start). */
  gapFills: number;
  lastGapFillAt: string | null;
  /** Logs the poller left out because the stream had shipped them (since start). */
  coveredByStream: number;
  /** The stream as Auth0 reports it (LOG_STREAM_STATUS_SECONDS); absent when not watched. */
  auth0?: StreamWatchSnapshot;
}

export interface DeliveryCounts {
  records: number;
  exported: number;
  filteredOut: number;
  alreadyShipped: number;
  repeatedInRequest: number;
  withoutLogId: number;
}

export class StreamActivity {
  private readonly counts = { requests: 0, delivered: 0, failed: 0, rejected: 0, records: 0, shipped: 0, filteredOut: 0, redeliveriesSkipped: 0, withoutLogId: 0, gapFills: 0, coveredByStream: 0 };
  private lastDeliveryAt: number | null = null;
  private lastGapFillAt: number | null = null;

  constructor(
    private readonly mode: LogStreamMode,
    private readonly maxSilenceMs: number,
    private readonly now: () => number,
    private readonly startedAt = now(),
  ) {}

  delivered(outcome: DeliveryCounts): void {
    this.counts.requests++;
    this.counts.delivered++;
    this.counts.records += outcome.records;
    this.counts.shipped += outcome.exported;
    this.counts.filteredOut += outcome.filteredOut;
    this.counts.redeliveriesSkipped += outcome.alreadyShipped + outcome.repeatedInRequest;
    this.counts.withoutLogId += outcome.withoutLogId;
    this.lastDeliveryAt = this.now();
  }

  failed(): void {
    this.counts.requests++;
    this.counts.failed++;
  }

  rejected(): void {
    this.counts.requests++;
    this.counts.rejected++;
  }

  /** A poller run finished: what it shipped the stream had not; what it skipped the stream had. */
  pollerRan(report: { status: string; exported: number; alreadyShipped?: number | undefined }): void {
    this.counts.coveredByStream += report.alreadyShipped ?? 0;
    if (report.exported > 0) {
      this.counts.gapFills += report.exported;
      this.lastGapFillAt = this.now();
    }
  }

  snapshot(): LogStreamActivity {
    const t = this.now();
    const heardFrom = this.lastDeliveryAt ?? this.startedAt;
    const silentMs = t - heardFrom;
    let status: LogStreamActivity['status'] = this.lastDeliveryAt === null ? 'waiting' : 'ok';
    let problem: string | undefined;
    if (silentMs > this.maxSilenceMs && this.lastGapFillAt !== null && this.lastGapFillAt > heardFrom) {
      status = 'silent';
      problem = `No log-stream delivery for ${Math.round(silentMs / 1000)} s while the poller found logs the stream had not delivered: check the stream's status in the Auth0 Dashboard (Monitoring → Streams); it may be paused or suspended.`;
    }
    return {
      mode: this.mode,
      status,
      ...(problem === undefined ? {} : { problem }),
      lastDeliveryAt: this.lastDeliveryAt === null ? null : new Date(this.lastDeliveryAt).toISOString(),
      ...this.counts,
      lastGapFillAt: this.lastGapFillAt === null ? null : new Date(this.lastGapFillAt).toISOString(),
    };
  }
}
