/**
 * The run lease as a fencing token. Taking the lease makes its generation
 * grow (see `takeLease`); a run's writes then carry that generation and each
 * store checks it in the same transaction or statement as the write, so a run
 * that was frozen, cut off from its database or slow to renew can never
 * write after another run took the lease: its write is refused with
 * LeaseLostError.
 *
 * This is the one place the check is made: `holds` decides, `store` and
 * `shipped` give the run views of the state and of the record of shipped ids
 * whose every write is fenced, and renewal finds a loss within a third of
 * the lease's time even when the run is not writing (a long shipment).
 */
import { LeaseLostError } from '../errors';
import type { Clock, Logger, ShippedIds, StateStore } from '../ports';
import type { StateDocument } from './state';

export class RunLease {
  private readonly lostController = new AbortController();
  private lostError: LeaseLostError | null = null;
  private timer: NodeJS.Timeout | undefined;
  private expiresAt: number;
  /** Set by `stop`: a renewal already in flight must not write the lease back after the run released it. */
  private stopped = false;
  private renewing: Promise<void> | null = null;

  constructor(
    private readonly options: { store: StateStore; clock: Clock; log: Logger; owner: string; generation: number; ttlMs: number },
    expiresAt: number,
  ) {
    this.expiresAt = expiresAt;
  }

  get generation(): number {
    return this.options.generation;
  }

  /** Aborted once the lease is known lost. */
  get signal(): AbortSignal {
    return this.lostController.signal;
  }

  get lost(): LeaseLostError | null {
    return this.lostError;
  }

  /** Whether this run's generation still holds the lease in `state`: the fencing check. */
  holds(state: StateDocument): boolean {
    return state.leaseGeneration === this.options.generation;
  }

  /** Throws LeaseLostError if the lease is known lost (before a shipment, or between stages). */
  check(): void {
    if (this.lostError) throw this.lostError;
  }

  /** A view of `store` whose every update is refused unless this lease still holds, checked in the update's own transaction. */
  store(store: StateStore): StateStore {
    return {
      read: () => store.read(),
      update: (change) =>
        store.update((state) => {
          if (!this.holds(state)) throw this.markLost(state);
          return change(state);
        }),
    };
  }

  /** A view of `shipped` whose writes carry this lease's generation, checked by the store in the same statement. */
  shipped(shipped: ShippedIds): ShippedIds {
    const view: ShippedIds = {
      record: (ids, at) => this.noting(shipped.record(ids, at, this.generation)),
      alreadyShipped: (ids) => shipped.alreadyShipped(ids),
      prune: (before) => this.noting(shipped.prune(before, this.generation)),
    };
    if (shipped.hold) view.hold = (ids) => shipped.hold!(ids);
    if (shipped.release) view.release = (ids) => shipped.release!(ids);
    return view;
  }

  /** Renews the lease every third of its time until `stop`; a renewal refused, or none in time, marks it lost. */
  start(): void {
    const every = Math.max(100, Math.floor(this.options.ttlMs / 3));
    const tick = (): void => {
      this.timer = setTimeout(() => {
        const renewing = this.renew().finally(() => {
          this.renewing = null;
          if (!this.stopped && this.lostError === null) tick();
        });
        this.renewing = renewing;
      }, every);
      this.timer.unref();
    };
    tick();
  }

  /**
   * Stops renewing and waits for a renewal already in flight, so that once this resolves the caller may
   * release the lease without that renewal committing afterwards (its generation check would still pass)
   * and holding the lease for another LEASE_SECONDS.
   */
  async stop(): Promise<void> {
    this.halt();
    await this.renewing;
  }

  private halt(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async renew(): Promise<void> {
    const { store, clock, owner, ttlMs, log } = this.options;
    const expiresAt = clock.now() + ttlMs;
    try {
      await store.update((state) => {
        // Stopped while this renewal waited for its transaction: the run is releasing the lease.
        if (this.stopped) return state;
        if (!this.holds(state)) throw this.markLost(state);
        return { ...state, lease: { ...(state.lease ?? {}), owner, expiresAt } };
      });
      this.expiresAt = expiresAt;
    } catch (error) {
      if (error instanceof LeaseLostError) return;
      // The store is unreachable: the lease still holds until it expires; after that another run may take it.
      log.warn(`could not renew the run lease: ${error instanceof Error ? error.message : String(error)}`);
      if (clock.now() >= this.expiresAt) {
        this.markLost(null, `The run lease expired at ${new Date(this.expiresAt).toISOString()} before it could be renewed; another run may hold it now.`);
      }
    }
  }

  private markLost(state: StateDocument | null, message?: string): LeaseLostError {
    if (this.lostError === null) {
      this.lostError = new LeaseLostError(
        message ?? `Another run took the lease (generation ${state?.leaseGeneration ?? 'unknown'}, this run's ${this.generation}); this run stopped and wrote nothing more.`,
      );
      this.halt();
      this.lostController.abort(this.lostError);
    }
    return this.lostError;
  }

  /** A refusal seen by the store (a fenced record or prune) marks the lease lost too. */
  private async noting<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } catch (error) {
      if (error instanceof LeaseLostError) throw this.markLost(null, error.message);
      throw error;
    }
  }
}
