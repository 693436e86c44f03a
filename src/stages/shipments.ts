/**
 * Group → ship → save. Pages join the group being gathered; a group is handed
 * to the sink, and once the sink confirmed it its checkpoint is saved: the only
 * place a run moves the checkpoint forward. At most one shipment is in flight,
 * so checkpoints are saved in order.
 *
 * The run owns one Shipments, and with it the group not yet shipped, the
 * shipment in flight, the record of the last shipment (pending until a later
 * send or the close confirms it) and the range that shipment leaves in doubt.
 */
import { MAX_SENDS_IN_DOUBT, SEND_IN_DOUBT_MS, type Clock, type LogSink, type Logger, type Metrics, type ShippedIds, type StateStore } from '../ports';
import type { RunLease } from '../storage/run-lease';
import type { ReshipRange } from '../storage/state';
import { addPage, isFull, newer, type Group, type GroupLimits, type PageOutcome } from './group-pages';
import type { RunReport } from './run-report';
import { saveCheckpoint } from './save-checkpoint';
import { PendingRecord } from './skip-shipped';

export interface ShipmentDeps {
  sink: LogSink;
  /** Fenced by the run's lease. */
  store: StateStore;
  shipped: ShippedIds | undefined;
  lease: RunLease | undefined;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

export class Shipments {
  /** The newest event exported so far (by any run), for lag. */
  newestDate: string | null = null;
  /** The slowest shipment so far, so that no page is started without time to ship it. */
  slowestMs = 0;
  private group: Group | null = null;
  /** The previous group's shipment. */
  private shipping: Promise<void> | null = null;
  /**
   * The checkpoint before each of the recent groups shipped by this run, oldest first, to take back
   * every group the sink puts in doubt: a receiver going away can drop a shipment and still confirm
   * the next one before the sink sees it gone (SinkError.inDoubt), so taking back only the last would lose one.
   */
  private readonly beforeGroups: string[] = [];
  private readonly pendingRecord: PendingRecord;

  constructor(private readonly deps: ShipmentDeps, private readonly report: RunReport) {
    this.pendingRecord = new PendingRecord(deps.shipped, () => deps.clock.now());
  }

  /** When the group being gathered got its first page; null when none is. */
  get gatheringSince(): number | null {
    return this.group?.since ?? null;
  }

  /**
   * Adaptive shipments: whether the group gathered so far may wait for more pages (the caller decides
   * that a backlog drains): not once it holds PAGES_PER_SHIPMENT pages or its size bound.
   */
  shouldWait(limits: GroupLimits): boolean {
    return this.group !== null && !isFull(this.group, limits);
  }

  add(page: PageOutcome): void {
    this.group = addPage(this.group, page, this.deps.clock.now());
  }

  /** Hands the group gathered so far to the sink, after the shipment in flight. */
  async handOff(): Promise<void> {
    const next = this.group;
    this.group = null;
    if (next === null) return;
    // If the previous shipment failed, this one is never shipped; its ids are released with the run's.
    if (this.shipping) await this.shipping;
    this.shipping = this.ship(next);
    this.shipping.catch(() => undefined); // surfaced when awaited
  }

  /** Hands off what was gathered and waits until every shipment is confirmed and saved; throws what failed. */
  async finish(): Promise<void> {
    await this.handOff();
    await this.settled();
  }

  /** Waits for the shipment in flight; throws if it failed. */
  async settled(): Promise<void> {
    if (this.shipping) await this.shipping;
  }

  /** Pages fetched but not shipped (a failure or an early stop) are simply fetched again by the next run. */
  dropUnshipped(): void {
    this.group = null;
  }

  /** The last `count` shipments this run saved, which a receiver gone mid-send may have lost. */
  inDoubt(count: number): ReshipRange | null {
    if (this.beforeGroups.length === 0 || this.report.checkpoint === null) return null;
    const after = this.beforeGroups[Math.max(0, this.beforeGroups.length - count)] as string;
    return { after, through: this.report.checkpoint };
  }

  /**
   * Closing gives the sink its last word on the last group (SINK_RECEIVER_GONE), so it counts as part
   * of the run. `certain`: the last shipment is not in doubt, so it is recorded as shipped.
   */
  async close(certain: () => boolean): Promise<void> {
    await this.deps.sink.close();
    if (certain()) await this.pendingRecord.settle();
  }

  /** Gives back the last shipment's ids unrecorded (it is shipped again). */
  abandon(): void {
    this.pendingRecord.abandon();
  }

  /** Ships a group, then saves its checkpoint. */
  private async ship(group: Group): Promise<void> {
    const { clock, lease, sink, shipped, store, metrics, log } = this.deps;
    const report = this.report;
    const shipStarted = clock.now();
    // A run that lost its lease ships nothing more: the new holder ships these pages.
    lease?.check();
    await sink.send(group.lines);
    if (group.lines.length > 0) {
      // This send succeeded, so the groups confirmed long enough before it can no longer be put in doubt
      // and are recorded; this one waits for a later send or the close (see skip-shipped.ts).
      await this.pendingRecord.settle(clock.now() - SEND_IN_DOUBT_MS);
      // Only the ids wait: keeping the group would keep its formatted lines alive for the whole window.
      this.pendingRecord.wait({ ids: group.ids, held: group.held });
    } else {
      shipped?.release?.(group.held);
    }
    await saveCheckpoint(store, group.lastId, group.newestDate);
    if (group.lines.length > 0 && report.checkpoint !== null) {
      this.beforeGroups.push(report.checkpoint);
      // A take-back reaches back at most as far as the sink can put sends in doubt.
      if (this.beforeGroups.length > MAX_SENDS_IN_DOUBT) this.beforeGroups.shift();
    }
    if (report.alreadyShipped !== undefined) report.alreadyShipped += group.alreadyShipped;
    metrics.shipmentSaved({ pages: group.pages, fetched: group.fetched, exported: group.lines.length, filteredOut: group.filteredOut, truncated: group.truncated, alreadyShipped: group.alreadyShipped });
    const first = report.pages + 1;
    report.pages += group.pages;
    report.fetched += group.fetched;
    report.exported += group.lines.length;
    report.filteredOut += group.filteredOut;
    report.truncated += group.truncated;
    report.checkpoint = group.lastId;
    this.newestDate = newer(this.newestDate, group.newestDate);
    this.slowestMs = Math.max(this.slowestMs, clock.now() - shipStarted);
    const pages = group.pages === 1 ? `page ${first}` : `pages ${first}-${report.pages}`;
    log.info(`${pages}: fetched ${group.fetched}, exported ${group.lines.length}${group.truncated ? ` (${group.truncated} truncated)` : ''}, filtered out ${group.filteredOut}${group.alreadyShipped ? `, already shipped ${group.alreadyShipped}` : ''}, checkpoint ${group.lastId}`);
  }
}
