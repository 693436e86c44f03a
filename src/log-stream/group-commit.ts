/**
 * Group commit for log-stream deliveries: at most SHIPMENTS_IN_FLIGHT
 * shipments at a time, and the deliveries that arrive while they are all in
 * flight ride together in the next one.
 *
 * A confirmed shipment costs a connection and a round trip to the receiver
 * (syslog's only confirmation is the receiver closing its side after reading
 * everything; see the sink). Paid per delivery, concurrent deliveries each pay
 * it; paid per shipment, they share it. A lone delivery never waits: with a
 * lane free it is shipped at once. A delivery that arrives while every lane is
 * busy waits for the first to finish, then goes in the next shipment with
 * every other delivery that arrived meanwhile, up to MAX_SHIPMENT_CHARS: its
 * wait is bounded by one shipment.
 *
 * Two lanes rather than one: with one, a delivery arriving just after a
 * shipment left waits for that whole round trip before its own starts; a
 * second lane starts it at once, and grouping takes over only when both are
 * busy. Measured with 4 senders (bench `stream`), two lanes carried about a
 * fifth more than one.
 *
 * `ship` resolves only once the shipment carrying the lines can no longer be
 * put in doubt. A confirmation is not enough: a receiver whose shutdown is
 * spread out can read a shipment, confirm it and drop it, and the sink learns
 * that only when a later send on it fails within SEND_IN_DOUBT_MS of the
 * confirmation (SINK_RECEIVER_GONE, whose `inDoubt` says how many of the last
 * confirmed shipments it covers). So a confirmed shipment stays unsettled
 * until MAX_SENDS_IN_DOUBT later shipments on its sink were confirmed, or a
 * later one was confirmed more than SEND_IN_DOUBT_MS after it, or
 * SEND_IN_DOUBT_MS has passed and the sink's `checkLastConfirmed` still finds
 * the receiver there, or the sink was closed without doubt. A failure rejects
 * the failed shipment and every unsettled one it puts in doubt (those
 * deliveries are answered with an error and Auth0 sends them again); the
 * sink is dropped. Waiting for that costs a lone delivery about
 * SEND_IN_DOUBT_MS after its confirmation, so `ship` also reports the
 * confirmation itself, for callers with another way to recover a shipment put
 * in doubt later (the poller, in hybrid mode: see ship-delivery.ts). Each
 * delivery's lines stay together and in their order; deliveries follow one
 * another in the order they arrived.
 *
 * Sinks live from shipment to shipment, so the connection a sink opens ahead
 * during one shipment (its witness) carries its next: one handshake per
 * shipment, off the critical path. A sink that cannot check its last
 * confirmation without closing (no `checkLastConfirmed`) is closed after each
 * shipment instead, and a new one opened for the next.
 */
import { SinkError } from '../errors';
import { MAX_SENDS_IN_DOUBT, SEND_IN_DOUBT_MS, type LogSink } from '../ports';

/** Characters of lines per shipment beyond the first delivery in it: a bound on what one write holds in memory. */
export const MAX_SHIPMENT_CHARS = 4 * 1024 * 1024;
/** Shipments in flight at once, each on a sink of its own. */
export const SHIPMENTS_IN_FLIGHT = 2;

export interface Shipments {
  /**
   * Resolves once `lines` are confirmed by the receiver and can no longer be
   * put in doubt; rejects with the shipment's failure, or with the failure that
   * put it in doubt. `confirmed` is called first, once the receiver confirmed
   * them (never for a shipment that fails before that).
   */
  ship(lines: readonly string[], confirmed?: () => void): Promise<void>;
}

/** The time source and the one timer a group commit needs; tests drive them by hand. */
export interface GroupCommitTimer {
  now(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

const realTimer: GroupCommitTimer = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

interface Waiting {
  lines: readonly string[];
  chars: number;
  confirmed: (() => void) | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

/** A shipment its sink confirmed, but could still put in doubt. */
interface Unsettled {
  group: Waiting[];
  confirmedAt: number;
  /** Shipments confirmed on the same sink since. */
  confirmedAfter: number;
}

/** A sink and the shipments it confirmed that are not settled yet, oldest first. */
interface Lane {
  sink: LogSink;
  unsettled: Unsettled[];
  /** Cancels the check due when the oldest unsettled shipment leaves the in-doubt window. */
  cancelCheck: (() => void) | undefined;
}

export class GroupCommit implements Shipments {
  /** Lanes between shipments, each sink keeping the connection it opened ahead. */
  private readonly idle: Lane[] = [];
  private readonly waiting: Waiting[] = [];
  /** Shipments and checks under way, each using a lane. */
  private inFlight = 0;
  private readonly drained: (() => void)[] = [];
  /** Shipments sent, for tests. */
  shipments = 0;

  constructor(
    private readonly openSink: () => LogSink,
    private readonly lanes = SHIPMENTS_IN_FLIGHT,
    private readonly maxChars = MAX_SHIPMENT_CHARS,
    private readonly timer: GroupCommitTimer = realTimer,
  ) {}

  ship(lines: readonly string[], confirmed?: () => void): Promise<void> {
    if (lines.length === 0) {
      confirmed?.();
      return Promise.resolve();
    }
    let chars = 0;
    for (const line of lines) chars += line.length + 1;
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ lines, chars, confirmed, resolve, reject });
      this.pump();
    });
  }

  /**
   * Waits for what is queued to be shipped, then closes the sinks. A sink that
   * closes without doubt can no longer put its shipments in doubt, so they are
   * settled; those a failing close puts in doubt are rejected. Nothing is left
   * waiting, and no check stays scheduled.
   */
  async close(): Promise<void> {
    if (this.inFlight > 0 || this.waiting.length > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    const lanes = this.idle.splice(0);
    await Promise.all(lanes.map(async (lane) => {
      lane.cancelCheck?.();
      lane.cancelCheck = undefined;
      try {
        await lane.sink.close();
        this.settle(lane, Number.POSITIVE_INFINITY);
      } catch (error) {
        this.rejectInDoubt(lane, error, 0);
      }
    }));
  }

  /** Starts shipments while a lane is free and deliveries wait. */
  private pump(): void {
    while (this.inFlight < this.lanes && this.waiting.length > 0) {
      const group = this.take();
      this.inFlight++;
      void this.shipGroup(group).finally(() => this.laneFreed());
    }
  }

  private laneFreed(): void {
    this.inFlight--;
    this.pump();
    if (this.inFlight === 0 && this.waiting.length === 0) for (const done of this.drained.splice(0)) done();
  }

  /** The deliveries of the next shipment: at least one, then as many as fit. */
  private take(): Waiting[] {
    const first = this.waiting.shift() as Waiting;
    const group = [first];
    let chars = first.chars;
    while (this.waiting.length > 0 && chars + (this.waiting[0] as Waiting).chars <= this.maxChars) {
      const next = this.waiting.shift() as Waiting;
      chars += next.chars;
      group.push(next);
    }
    return group;
  }

  private async shipGroup(group: Waiting[]): Promise<void> {
    const lane = this.idle.pop() ?? { sink: this.openSink(), unsettled: [], cancelCheck: undefined };
    // The send decides about the lane's unsettled shipments now; a check is scheduled again after it.
    lane.cancelCheck?.();
    lane.cancelCheck = undefined;
    const { sink } = lane;
    this.shipments++;
    let confirmed = false;
    try {
      await sink.send(group.length === 1 ? (group[0] as Waiting).lines : group.flatMap((w) => w.lines));
      confirmed = true;
      if (sink.checkLastConfirmed) await sink.checkLastConfirmed();
      else await sink.close();
    } catch (error) {
      // Whatever state its connections are in, a later shipment starts on a fresh sink.
      await sink.close().catch(() => undefined);
      for (const w of group) w.reject(error);
      // A failed check counts this shipment among those its `inDoubt` covers; a failed send does not.
      this.rejectInDoubt(lane, error, confirmed ? 1 : 0);
      return;
    }
    for (const w of group) w.confirmed?.();
    const now = this.timer.now();
    for (const unsettled of lane.unsettled) unsettled.confirmedAfter++;
    lane.unsettled.push({ group, confirmedAt: now, confirmedAfter: 0 });
    if (!sink.checkLastConfirmed) {
      // Closed without doubt: nothing can put its shipments in doubt any more.
      this.settle(lane, Number.POSITIVE_INFINITY);
      return;
    }
    this.settle(lane, now - SEND_IN_DOUBT_MS);
    this.idle.push(lane);
    this.scheduleCheck(lane);
  }

  /**
   * Settles, oldest first, the lane's shipments confirmed at or before
   * `confirmedBy`, and those MAX_SENDS_IN_DOUBT later confirmations put out of
   * reach; younger ones keep waiting.
   */
  private settle(lane: Lane, confirmedBy: number): void {
    const keep: Unsettled[] = [];
    for (const unsettled of lane.unsettled) {
      if (unsettled.confirmedAt <= confirmedBy || unsettled.confirmedAfter >= MAX_SENDS_IN_DOUBT) for (const w of unsettled.group) w.resolve();
      else keep.push(unsettled);
    }
    lane.unsettled = keep;
  }

  /**
   * After `error` on the lane's sink (which is then dropped): the most recent
   * unsettled shipments it puts in doubt are rejected with it, and the older
   * ones, which it cannot reach, are settled. `counted` of its `inDoubt` are
   * already accounted for by the caller.
   */
  private rejectInDoubt(lane: Lane, error: unknown, counted: number): void {
    const inDoubt = error instanceof SinkError && error.code === 'SINK_RECEIVER_GONE' ? Math.max(0, error.inDoubt - counted) : 0;
    const unsettled = lane.unsettled;
    lane.unsettled = [];
    const reached = unsettled.length - Math.min(inDoubt, unsettled.length);
    unsettled.forEach((u, i) => {
      for (const w of u.group) {
        if (i < reached) w.resolve();
        else w.reject(error);
      }
    });
  }

  /**
   * Once the oldest unsettled shipment leaves the in-doubt window, asks the
   * sink whether the receiver is still there (the lane's sink may see no
   * other send for a while, so it would never notice otherwise).
   */
  private scheduleCheck(lane: Lane): void {
    const oldest = lane.unsettled[0];
    if (!oldest || lane.cancelCheck) return;
    const dueIn = Math.max(0, oldest.confirmedAt + SEND_IN_DOUBT_MS - this.timer.now());
    lane.cancelCheck = this.timer.after(dueIn, () => {
      lane.cancelCheck = undefined;
      const at = this.idle.indexOf(lane);
      // A lane in use is decided by its send.
      if (at < 0) return;
      this.idle.splice(at, 1);
      this.inFlight++;
      void this.check(lane).finally(() => this.laneFreed());
    });
  }

  private async check(lane: Lane): Promise<void> {
    const { sink } = lane;
    try {
      await sink.checkLastConfirmed?.();
    } catch (error) {
      await sink.close().catch(() => undefined);
      this.rejectInDoubt(lane, error, 0);
      return;
    }
    this.settle(lane, this.timer.now() - SEND_IN_DOUBT_MS);
    this.idle.push(lane);
    this.scheduleCheck(lane);
  }
}
