/**
 * Pages in doubt: the receiver may have read the last shipment without
 * keeping it (SINK_RECEIVER_GONE), so it must be shipped again. Two ways to
 * make sure it is, decided in one transaction so that nothing can slip in
 * between:
 * - while this run still holds the lease and the checkpoint is still the one
 *   it saved, the checkpoint moves back before the shipment (taken back);
 * - otherwise (another run took the lease or moved the checkpoint on), the
 *   range is recorded in the state as to be shipped again, and the next run,
 *   of any replica, ships it first (see `reshipFirst`).
 * The write is retried within the run's budget; the state stores open a fresh
 * connection after one that failed, so a take-back never depends on the
 * connection that broke. Only when every attempt failed is it left pending,
 * reported with its range, for the service to retry (see PendingTakeBacks).
 */
import type { Clock, Logger, StateStore } from '../ports';
import { compareLogIds, mergeReship, type ReshipRange, type StateDocument } from '../storage/state';

export interface TakeBack extends ReshipRange {
  /** `done`: the checkpoint was moved back; `recorded`: the range waits for the next run; `pending`: neither could be written. */
  status: 'done' | 'recorded' | 'pending';
  /** Why it is pending (the store's last error). */
  reason?: string;
}

const FIRST_PAUSE_MS = 200;
const MAX_PAUSE_MS = 2_000;
/** Tried at least this often, even past the run's budget: a take-back is worth a few seconds more. */
const MIN_ATTEMPTS = 3;

/** One transaction: take the range back if this run may, else record it to be shipped again. */
export async function writeTakeBack(store: StateStore, range: ReshipRange, holds: (state: StateDocument) => boolean): Promise<'done' | 'recorded'> {
  let outcome: 'done' | 'recorded' = 'recorded';
  await store.update((state) => {
    if (holds(state) && state.checkpoint === range.through) {
      outcome = 'done';
      return { ...state, checkpoint: range.after };
    }
    outcome = 'recorded';
    return { ...state, reship: mergeReship(state.reship, range) };
  });
  return outcome;
}

export async function takeBack(store: StateStore, range: ReshipRange, holds: (state: StateDocument) => boolean, clock: Clock, until: number): Promise<TakeBack> {
  let reason = '';
  for (let attempt = 1, pause = FIRST_PAUSE_MS; ; attempt++, pause = Math.min(MAX_PAUSE_MS, pause * 2)) {
    try {
      return { ...range, status: await writeTakeBack(store, range, holds) };
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    if (attempt >= MIN_ATTEMPTS && clock.now() + pause > until) return { ...range, status: 'pending', reason };
    await clock.sleep(pause);
  }
}

/** The sentence a report carries for a take-back, saying only what was written. */
export function describeTakeBack(t: TakeBack): string {
  const range = `after log ${t.after} through ${t.through}`;
  switch (t.status) {
    case 'done':
      return `The last pages shipped (${range}) may have been read by the receiver without being kept: the checkpoint was moved back before them, so the next run ships them again.`;
    case 'recorded':
      return `The last pages shipped (${range}) may have been read by the receiver without being kept, and another run has moved on: they are recorded as to be shipped again, and the next run of any replica ships them first.`;
    case 'pending':
      return `The last pages shipped (${range}) may have been read by the receiver without being kept, and neither moving the checkpoint back nor recording them could be written (${t.reason ?? 'unknown error'}): the take-back is pending; a service keeps retrying it.`;
  }
}

/**
 * At the start of a run: a range in doubt recorded by an earlier run is
 * shipped first, by moving the checkpoint back to its start (in the same
 * fenced write that clears it). Logs after it that are recorded as shipped
 * are skipped as usual, so mostly the range itself is shipped again.
 */
export async function reshipFirst(store: StateStore, state: StateDocument): Promise<ReshipRange | null> {
  if (state.reship === null) return null;
  let taken: ReshipRange | null = null;
  await store.update((current) => {
    taken = current.reship;
    if (taken === null) return current;
    const back = current.checkpoint === null || compareLogIds(taken.after, current.checkpoint) < 0;
    return { ...current, reship: null, checkpoint: back ? taken.after : current.checkpoint };
  });
  return taken;
}

/**
 * Take-backs a service's runs could not write at all (the database was
 * unreachable for the run's whole budget): kept in memory and retried until
 * recorded, before every run and every few seconds (see serve.ts). A CLI run
 * has no later chance; its report says the take-back is pending, with the range.
 */
export class PendingTakeBacks {
  private ranges: ReshipRange[] = [];
  /** The flush in flight: the service's interval and a run's start share it instead of writing each range twice. */
  private flushing: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  add(range: ReshipRange): void {
    this.ranges.push(range);
  }

  get size(): number {
    return this.ranges.length;
  }

  /** The ranges still waiting, for /health: their bounds only (a store's error message is not for a public page). */
  get waiting(): ReshipRange[] {
    return this.ranges.map(({ after, through }) => ({ after, through }));
  }

  /** Records each waiting range as pages to ship again; never throws (what fails stays waiting). */
  flush(store: StateStore): Promise<void> {
    this.flushing ??= this.recordAll(store).finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async recordAll(store: StateStore): Promise<void> {
    for (const range of [...this.ranges]) {
      try {
        // Recorded, never taken back: the run that shipped these pages is over, and the next run ships them first.
        await writeTakeBack(store, range, () => false);
        this.ranges = this.ranges.filter((r) => r !== range);
        this.log.info(`pending take-back recorded: the pages after log ${range.after} through ${range.through} are shipped again by the next run`);
      } catch (error) {
        this.log.warn(`pending take-back (after log ${range.after} through ${range.through}) still not written: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
    }
  }
}

/**
 * How many ranges in doubt wait to be shipped again: the one recorded in the
 * state (a run takes it up) and those a service still retries. With the state
 * unreadable, only the latter are known: the recorded one is still there for
 * the next run, and /health fails meanwhile.
 */
export async function rangesWaiting(store: StateStore, pending: PendingTakeBacks): Promise<number> {
  const recorded = await store.read().then((state) => (state.reship === null ? 0 : 1), () => 0);
  return recorded + pending.size;
}
