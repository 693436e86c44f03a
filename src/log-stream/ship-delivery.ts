/**
 * Log-stream stage 4: ship what no one has shipped yet, and record it.
 *
 *   hold the ids → skip those already recorded (Auth0's redeliveries, and
 *   what the poller shipped) → filter (LOG_LEVEL / LOG_TYPES) → format → hand
 *   the lines to the group commit → answer → once the shipment can no longer
 *   be put in doubt, record the ids → release.
 *
 * When to answer depends on who else can ship a record:
 *
 * - Stream only (LOG_STREAM_ONLY): no one. The answer waits until the
 *   shipment is out of doubt and recorded; a shipment put in doubt (the
 *   receiver went away right after confirming it, which a later send on the
 *   same sink can still reveal) fails every delivery in it, and Auth0 sends
 *   each again.
 * - Hybrid (the default): the poller ships every log it reads that is not
 *   recorded as shipped. So the answer goes out once the receiver confirmed
 *   the shipment, and the ids stay held until it is out of doubt: recorded
 *   then, or, if it is put in doubt, released unrecorded for the poller to
 *   ship (`afterAnswer` is told either way). Nothing is lost, since the
 *   poller skips only recorded ids, and the poller of this process waits for
 *   the holds rather than shipping the same records twice.
 *
 * Parallel deliveries wait for one another only where they carry the same
 * ids (the holds), and otherwise share shipments (group-commit.ts).
 */
import type { Auth0Log } from '../auth0/auth0-log';
import type { LogFilter } from '../config';
import type { Clock, ShippedIds } from '../ports';
import { filterLogs } from '../stages/filter-logs';
import type { FormatOptions } from '../stages/format-log';
import { formatLogs } from '../stages/ship-logs';
import type { Shipments } from './group-commit';
import { normalizeStreamEvent } from './normalize-event';
import type { OrderedRecords } from './order-records';

export interface ShipDeliveryDeps {
  shipped: ShippedIds;
  /** Where the formatted lines go; resolves once they are confirmed and out of doubt. */
  shipments: Shipments;
  clock: Pick<Clock, 'now'>;
  /**
   * Hybrid mode: answer once the receiver confirmed the shipment, and hand
   * the rest (wait until out of doubt, record, release) to this, which must
   * keep the promise until shutdown. It rejects when the shipment was put in
   * doubt or the ids could not be recorded: they are then left to the poller.
   * Absent: the delivery resolves only once the ids are recorded.
   */
  afterAnswer?: (settling: Promise<void>, records: number) => void;
}

export interface ShipDeliveryOptions {
  filter: LogFilter;
  papertrail: FormatOptions;
}

export interface ShippedDelivery {
  exported: number;
  filteredOut: number;
  truncated: number;
  /** Records skipped because their id was already recorded as shipped. */
  alreadyShipped: number;
  /** Exported records that carried no usable log_id (shipped marked). */
  withoutLogId: number;
}

export async function shipDelivery(ordered: OrderedRecords, deps: ShipDeliveryDeps, options: ShipDeliveryOptions): Promise<ShippedDelivery> {
  const { shipped } = deps;
  const ids = ordered.withId.map((r) => r.logId);
  await shipped.hold?.(ids);
  let handedOver = false;
  try {
    const already = ids.length === 0 ? new Set<string>() : await shipped.alreadyShipped(ids);
    const fresh: Auth0Log[] = [];
    for (const record of ordered.withId) if (!already.has(record.logId)) fresh.push(normalizeStreamEvent(record));
    const unidentified = ordered.withoutId.map(normalizeStreamEvent);
    const exported = filterLogs(fresh, options.filter);
    const exportedUnidentified = filterLogs(unidentified, options.filter);
    const toShip = [...exported, ...exportedUnidentified];

    let truncated = 0;
    if (toShip.length > 0) {
      const formatted = formatLogs(toShip, options.papertrail);
      truncated = formatted.truncated;
      const shippedIds = exported.map((log) => log.log_id as string);
      let confirmed!: () => void;
      const isConfirmed = new Promise<void>((resolve) => (confirmed = resolve));
      const recorded = deps.shipments.ship(formatted.lines, confirmed).then(async () => {
        if (shippedIds.length > 0) await shipped.record(shippedIds, deps.clock.now());
      });
      if (deps.afterAnswer) {
        // A shipment that fails before its confirmation rejects `recorded` first: nothing was answered yet.
        await Promise.race([isConfirmed, recorded]);
        handedOver = true;
        deps.afterAnswer(recorded.finally(() => shipped.release?.(ids)), toShip.length);
      } else {
        await recorded;
      }
    }
    return {
      exported: toShip.length,
      filteredOut: fresh.length + unidentified.length - toShip.length,
      truncated,
      alreadyShipped: already.size,
      withoutLogId: exportedUnidentified.length,
    };
  } finally {
    if (!handedOver) shipped.release?.(ids);
  }
}
