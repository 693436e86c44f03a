/**
 * How long the record of shipped ids remembers an id. It must hold every id
 * the poller may still fetch (everything after its checkpoint), and, for
 * Auth0's redeliveries and late or replayed stream deliveries, everything
 * shipped within SHIPPED_IDS_KEPT_MS. Forgetting more only risks a
 * duplicate, never a loss. The margin covers Auth0's retries and a stream
 * paused over a weekend; a replay from further back (a Starting Cursor) may
 * be shipped twice.
 */
import type { ShippedIds } from '../ports';

export const SHIPPED_IDS_KEPT_MS = 3 * 24 * 3600 * 1000;

/** The ingestion time inside an Auth0 log id ("900" + yyyymmddHHMMSS + digits), or undefined. */
export function logIdTime(id: string): number | undefined {
  const m = /^900(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\d*$/.exec(id);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Ids shipped before this time may be forgotten: the earlier of now minus the
 * margin and the poller's checkpoint (anything after the checkpoint was
 * ingested, so shipped, no earlier than the checkpoint's second). In
 * stream-only mode there is no poller and only the margin counts.
 */
export function forgetBefore(now: number, checkpoint: string | null, pollerOn: boolean): number {
  const byMargin = now - SHIPPED_IDS_KEPT_MS;
  if (!pollerOn || checkpoint === null) return byMargin;
  const at = logIdTime(checkpoint);
  return at === undefined ? byMargin : Math.min(byMargin, at - 1000);
}

export function pruneShippedIds(shipped: ShippedIds, now: number, checkpoint: string | null, pollerOn: boolean): Promise<number> {
  return shipped.prune(forgetBefore(now, checkpoint, pollerOn));
}

/**
 * A deliberate replay (START_FROM, POST /reset) asks for the logs after the
 * new checkpoint to be shipped again: the record of what was shipped would
 * skip them, so it is emptied. The log stream may then ship a redelivery
 * twice, which a replay accepts by its nature.
 */
export function forgetShippedIds(shipped: ShippedIds): Promise<number> {
  return shipped.prune(Number.MAX_SAFE_INTEGER);
}
