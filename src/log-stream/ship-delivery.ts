/**
 * Log-stream stage 4: ship what no one has shipped yet, and record it.
 *
 *   hold the ids → skip those already recorded (Auth0's redeliveries, and
 *   what the poller shipped) → filter (LOG_LEVEL / LOG_TYPES) → format → hand
 *   the lines to the group commit and wait until the shipment carrying them is
 *   confirmed and can no longer be put in doubt → record the ids → release.
 *
 * Parallel deliveries wait for one another only where they carry the same
 * ids (the holds), and otherwise share shipments (group-commit.ts). A
 * shipment in doubt (the receiver went away right after confirming it, which
 * a later send on the same sink can still reveal) fails every delivery in it;
 * none is recorded, and Auth0 sends each again.
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
      await deps.shipments.ship(formatted.lines);
      truncated = formatted.truncated;
      const shippedIds = exported.map((log) => log.log_id as string);
      if (shippedIds.length > 0) await shipped.record(shippedIds, deps.clock.now());
    }
    return {
      exported: toShip.length,
      filteredOut: fresh.length + unidentified.length - toShip.length,
      truncated,
      alreadyShipped: already.size,
      withoutLogId: exportedUnidentified.length,
    };
  } finally {
    shipped.release?.(ids);
  }
}
