/**
 * Writes a replica's log-stream deliveries into the shared state, so that
 * every replica judges the stream from the same last delivery (see
 * activity.ts).
 *
 * Coalesced, not one write per delivery: the first delivery after a quiet
 * second is written at once, later ones at most once per second
 * (SHARE_EVERY_MS), in one update. That is enough for the judgement: it asks
 * whether the stream has been silent for LOG_STREAM_MAX_SILENCE_SECONDS (at
 * least several seconds), so a last delivery seen by the other replicas up to
 * a second late cannot make a delivering stream look silent; and the replica
 * that received it judges from its own unwritten deliveries too. A delivery
 * is answered without waiting for the write: the logs are shipped and
 * recorded by then, and a failed write is retried a second later.
 */
import type { Logger, StateStore } from '../ports';
import { addDeliveries, type StreamActivity } from './activity';

export const SHARE_EVERY_MS = 1_000;

export class ActivitySharing {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  /** Set by `close`: the store may be closed next, so nothing arms another write. */
  private closed = false;

  constructor(
    private readonly activity: StreamActivity,
    private readonly deps: { store: Pick<StateStore, 'update'>; now: () => number; log: Logger },
  ) {}

  /** A delivery was counted: write it now, or with the next write within a second. */
  delivered(): void {
    if (this.closed || this.timer !== undefined || this.writing !== undefined) return;
    const wait = Math.max(0, this.lastWriteAt + SHARE_EVERY_MS - this.deps.now());
    if (wait === 0) {
      this.writing = this.write();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.write();
    }, wait);
    this.timer.unref();
  }

  /** Writes what is left (at shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.write();
    // Nothing re-arms once closed; cleared again in case a timer was armed while this waited.
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async write(): Promise<void> {
    const unshared = this.activity.takeUnshared();
    try {
      if (unshared === null) return;
      const written = await this.deps.store.update((state) => ({ ...state, streamActivity: addDeliveries(state.streamActivity, unshared) }));
      this.activity.sawShared(written.streamActivity);
    } catch (error) {
      if (unshared !== null) this.activity.giveBack(unshared);
      this.deps.log.warn(`log stream: could not write its activity to the shared state (retried within a second): ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.lastWriteAt = this.deps.now();
      this.writing = undefined;
    }
    // Deliveries counted while writing go with the next write.
    if (this.activity.hasUnshared()) this.delivered();
  }
}
