/**
 * What `/health` and the run history say about the log stream: its last
 * delivery, request and record counts, redeliveries skipped, and what the
 * poller had to fill in. The counts are this process's since it started; the
 * stream's last delivery, its last gap fill and the deliveries of all
 * replicas live in the shared state (SharedStreamActivity), so that the
 * silent judgement, its alert and the metric agree whichever replica receives
 * the deliveries and whichever decides.
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
  /** Every replica sharing the state, as this one last read it plus what it has not written yet. */
  allReplicas: { deliveries: number; records: number; shipped: number; gapFills: number };
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

/**
 * The stream's activity every replica sees (the state's `streamActivity`):
 * the judgement reads only the two times; the counts are for the reader.
 */
export interface SharedStreamActivity {
  lastDeliveryAt: string | null;
  deliveries: number;
  records: number;
  shipped: number;
  lastGapFillAt: string | null;
  gapFills: number;
}

/** Deliveries a replica received and has not written to the shared state yet. */
export interface UnsharedDeliveries {
  lastDeliveryAt: number;
  deliveries: number;
  records: number;
  shipped: number;
}

export function emptySharedStream(): SharedStreamActivity {
  return { lastDeliveryAt: null, deliveries: 0, records: 0, shipped: 0, lastGapFillAt: null, gapFills: 0 };
}

const later = (a: string | null, b: number | null): string | null =>
  b === null ? a : a === null || Date.parse(a) < b ? new Date(b).toISOString() : a;

/** The shared activity with a replica's unwritten deliveries added (pure: the store may apply it twice on conflict). */
export function addDeliveries(shared: SharedStreamActivity | null, d: UnsharedDeliveries): SharedStreamActivity {
  const s = shared ?? emptySharedStream();
  return { ...s, lastDeliveryAt: later(s.lastDeliveryAt, d.lastDeliveryAt), deliveries: s.deliveries + d.deliveries, records: s.records + d.records, shipped: s.shipped + d.shipped };
}

/** The shared activity with a poller run's gap fills added (pure). */
export function addGapFills(shared: SharedStreamActivity | null, exported: number, at: number): SharedStreamActivity {
  const s = shared ?? emptySharedStream();
  return exported > 0 ? { ...s, gapFills: s.gapFills + exported, lastGapFillAt: later(s.lastGapFillAt, at) } : s;
}

/** Reads whatever storage held into a well-formed shared activity (null when absent or unreadable). */
export function normalizeSharedStream(raw: unknown): SharedStreamActivity | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const time = (v: unknown): string | null => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : null);
  const count = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);
  return { lastDeliveryAt: time(r['lastDeliveryAt']), deliveries: count(r['deliveries']), records: count(r['records']), shipped: count(r['shipped']), lastGapFillAt: time(r['lastGapFillAt']), gapFills: count(r['gapFills']) };
}

export class StreamActivity {
  private readonly counts = { requests: 0, delivered: 0, failed: 0, rejected: 0, records: 0, shipped: 0, filteredOut: 0, redeliveriesSkipped: 0, withoutLogId: 0, gapFills: 0, coveredByStream: 0 };
  private lastDeliveryAt: number | null = null;
  private lastGapFillAt: number | null = null;
  /** The shared activity as last read or written. */
  private shared: SharedStreamActivity | null = null;
  private unshared: UnsharedDeliveries | null = null;

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
    const u = this.unshared ?? { lastDeliveryAt: 0, deliveries: 0, records: 0, shipped: 0 };
    this.unshared = { lastDeliveryAt: this.lastDeliveryAt, deliveries: u.deliveries + 1, records: u.records + outcome.records, shipped: u.shipped + outcome.exported };
  }

  /** The deliveries not written to the shared state yet, handed to the writer (null: none). */
  takeUnshared(): UnsharedDeliveries | null {
    const u = this.unshared;
    this.unshared = null;
    return u;
  }

  hasUnshared(): boolean {
    return this.unshared !== null;
  }

  /** A write failed: its deliveries go with the next one. */
  giveBack(u: UnsharedDeliveries): void {
    this.unshared = this.unshared === null ? u : { lastDeliveryAt: Math.max(u.lastDeliveryAt, this.unshared.lastDeliveryAt), deliveries: u.deliveries + this.unshared.deliveries, records: u.records + this.unshared.records, shipped: u.shipped + this.unshared.shipped };
  }

  /** The shared activity as just read or written. */
  sawShared(shared: SharedStreamActivity | null): void {
    if (shared !== null) this.shared = shared;
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

  /**
   * Judged from the shared activity (`shared` when the caller just read it,
   * else the one last seen) plus this replica's unwritten deliveries, so that
   * every replica judges the same stream the same way.
   */
  snapshot(shared?: SharedStreamActivity | null): LogStreamActivity {
    if (shared !== undefined) this.sawShared(shared);
    const t = this.now();
    const base = this.unshared === null ? (this.shared ?? emptySharedStream()) : addDeliveries(this.shared, this.unshared);
    // This replica's own last delivery and gap fill count even while their write is on its way.
    const view = { ...base, lastDeliveryAt: later(base.lastDeliveryAt, this.lastDeliveryAt), lastGapFillAt: later(base.lastGapFillAt, this.lastGapFillAt) };
    const lastDeliveryAt = view.lastDeliveryAt === null ? null : Date.parse(view.lastDeliveryAt);
    const lastGapFillAt = view.lastGapFillAt === null ? null : Date.parse(view.lastGapFillAt);
    const heardFrom = lastDeliveryAt ?? this.startedAt;
    const silentMs = t - heardFrom;
    let status: LogStreamActivity['status'] = lastDeliveryAt === null ? 'waiting' : 'ok';
    let problem: string | undefined;
    if (silentMs > this.maxSilenceMs && lastGapFillAt !== null && lastGapFillAt > heardFrom) {
      status = 'silent';
      problem = `No log-stream delivery for ${Math.round(silentMs / 1000)} s while the poller found logs the stream had not delivered: check the stream's status in the Auth0 Dashboard (Monitoring → Streams); it may be paused or suspended.`;
    }
    return {
      mode: this.mode,
      status,
      ...(problem === undefined ? {} : { problem }),
      lastDeliveryAt: view.lastDeliveryAt,
      ...this.counts,
      lastGapFillAt: view.lastGapFillAt,
      allReplicas: { deliveries: view.deliveries, records: view.records, shipped: view.shipped, gapFills: view.gapFills },
    };
  }
}
