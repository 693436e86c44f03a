/**
 * The poller's side of the shared record of shipped ids (hybrid mode, where
 * a log stream ships the same events in real time): hold a page's ids, leave
 * out those already recorded as shipped, and record the rest once they are
 * certainly delivered.
 *
 * "Certainly" is later than the sink's confirmation: the sink can still
 * report the last page in doubt (SINK_RECEIVER_GONE) when the next page is
 * sent or when it is closed, and the run then ships that page again. So a
 * page's ids are recorded only after the next send or the close succeeded;
 * recording them earlier would make that second attempt skip them, a loss.
 */
import type { Auth0Log } from '../auth0/auth0-log';
import { logIdOf } from '../auth0/auth0-log';
import type { ShippedIds } from '../ports';

export interface UnshippedPage {
  /** The page's logs that no one has shipped yet, in page order. */
  fresh: Auth0Log[];
  /** How many were left out because they are recorded as shipped. */
  alreadyShipped: number;
  /** Ids of `fresh`, to record once certain. */
  ids: string[];
  /** The ids this page holds until `release`. */
  held: string[];
}

export async function skipShipped(shipped: ShippedIds | undefined, logs: readonly Auth0Log[]): Promise<UnshippedPage> {
  if (!shipped) return { fresh: [...logs], alreadyShipped: 0, ids: [], held: [] };
  const held = logs.map(logIdOf).filter((id): id is string => id !== undefined);
  await shipped.hold?.(held);
  try {
    const already = held.length === 0 ? new Set<string>() : await shipped.alreadyShipped(held);
    const fresh = already.size === 0 ? [...logs] : logs.filter((log) => !already.has(logIdOf(log) as string));
    const ids = fresh.map(logIdOf).filter((id): id is string => id !== undefined);
    return { fresh, alreadyShipped: logs.length - fresh.length, ids, held };
  } catch (error) {
    shipped.release?.(held);
    throw error;
  }
}

/**
 * Pages shipped but not yet certain. `settle` records the pending pages once
 * the sink can no longer put them in doubt (a later send succeeded and they
 * were confirmed more than SEND_IN_DOUBT_MS before it, or the close
 * succeeded), then releases their ids; `abandon` releases the rest
 * unrecorded (the run failed, and those pages are shipped again).
 */
export class PendingRecord {
  private pending: { page: Pick<UnshippedPage, 'ids' | 'held'>; confirmedAt: number }[] = [];

  constructor(private readonly shipped: ShippedIds | undefined, private readonly now: () => number) {}

  /**
   * Records, oldest first, the pages confirmed at or before `confirmedBy`
   * (all of them when omitted: call once the close succeeded).
   */
  async settle(confirmedBy = Number.POSITIVE_INFINITY): Promise<void> {
    while (this.pending.length > 0 && (this.pending[0] as { confirmedAt: number }).confirmedAt <= confirmedBy) {
      const { page } = this.pending.shift() as { page: Pick<UnshippedPage, 'ids' | 'held'> };
      if (!this.shipped) continue;
      try {
        if (page.ids.length > 0) await this.shipped.record(page.ids, this.now());
      } finally {
        this.shipped.release?.(page.held);
      }
    }
  }

  /** `page` (or a group of pages) was confirmed by the sink just now; it is recorded by a later `settle`. */
  wait(page: Pick<UnshippedPage, 'ids' | 'held'>): void {
    this.pending.push({ page, confirmedAt: this.now() });
  }

  abandon(): void {
    const pending = this.pending;
    this.pending = [];
    for (const { page } of pending) this.shipped?.release?.(page.held);
  }
}
