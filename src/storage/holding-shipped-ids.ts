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

/** Passes the record itself through to `inner`; the subclasses add holds. */
abstract class ForwardingShippedIds implements ShippedIds {
  constructor(protected readonly inner: ShippedIds) {}

  record(ids: readonly string[], at: number, fence?: number): Promise<void> {
    return this.inner.record(ids, at, fence);
  }

  alreadyShipped(ids: readonly string[]): Promise<Set<string>> {
    return this.inner.alreadyShipped(ids);
  }

  prune(before: number, fence?: number): Promise<number> {
    return this.inner.prune(before, fence);
  }
}

export class HoldingShippedIds extends ForwardingShippedIds {
  private readonly held = new Map<string, { done: Promise<void>; release: () => void }>();

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

/**
 * The ids one run holds, so that the run has a single owner of them:
 * whatever path the run ends by (a failed shipment, a failed fetch, an early
 * stop, a lost lease), `releaseAll` gives back every id still held, once.
 * The normal path releases a page's ids as soon as they are recorded.
 */
export class RunHolds extends ForwardingShippedIds {
  private readonly held = new Set<string>();

  async hold(ids: readonly string[]): Promise<void> {
    await this.inner.hold?.(ids);
    for (const id of ids) this.held.add(id);
  }

  /** Releases those of `ids` this run still holds (releasing an id twice does nothing). */
  release(ids: readonly string[]): void {
    const still = ids.filter((id) => this.held.delete(id));
    if (still.length > 0) this.inner.release?.(still);
  }

  releaseAll(): void {
    this.release([...this.held]);
  }

  /** Ids this run holds right now. */
  get holding(): number {
    return this.held.size;
  }
}
