/**
 * Adds in-process holds to a record of shipped ids, so that the shippers of
 * one process (log-stream deliveries running in parallel, and the poller)
 * never ship the same `log_id` at the same time: a shipper holds its ids,
 * checks which are already recorded, ships the rest, records them, releases.
 * A second shipper of an id waits for the first and then finds it recorded,
 * or, if the first failed, ships it itself.
 *
 * Holds are all-or-nothing (wait until every id is free, then take them all
 * at once), so no holder ever waits while holding: there is no deadlock.
 * When the store itself can hold ids across processes, that hold is taken
 * after the in-process one.
 */
import type { ShippedIds } from '../ports';

export class HoldingShippedIds implements ShippedIds {
  private readonly held = new Map<string, { done: Promise<void>; release: () => void }>();

  constructor(private readonly inner: ShippedIds) {}

  record(ids: readonly string[], at: number, fence?: number): Promise<void> {
    return this.inner.record(ids, at, fence);
  }

  alreadyShipped(ids: readonly string[]): Promise<Set<string>> {
    return this.inner.alreadyShipped(ids);
  }

  prune(before: number, fence?: number): Promise<number> {
    return this.inner.prune(before, fence);
  }

  async hold(ids: readonly string[]): Promise<void> {
    const unique = [...new Set(ids)];
    for (;;) {
      const busy = new Set<Promise<void>>();
      for (const id of unique) {
        const holder = this.held.get(id);
        if (holder) busy.add(holder.done);
      }
      if (busy.size === 0) break;
      await Promise.all(busy);
    }
    // No await between the check above and taking the ids: nobody can slip in.
    for (const id of unique) {
      let release!: () => void;
      const done = new Promise<void>((resolve) => (release = resolve));
      this.held.set(id, { done, release });
    }
    if (this.inner.hold) {
      try {
        await this.inner.hold(unique);
      } catch (error) {
        this.releaseHere(unique);
        throw error;
      }
    }
  }

  release(ids: readonly string[]): void {
    this.inner.release?.(ids);
    this.releaseHere(ids);
  }

  /** Ids held in this process right now. */
  get holding(): number {
    return this.held.size;
  }

  private releaseHere(ids: readonly string[]): void {
    for (const id of ids) {
      const holder = this.held.get(id);
      if (!holder) continue;
      this.held.delete(id);
      holder.release();
    }
  }
}
