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
 * `ship` resolves only once the shipment carrying the lines is confirmed and
 * the sink found no sign that the receiver went away right after confirming;
 * a failure rejects every delivery of that shipment, and that sink is dropped.
 * Each delivery's lines stay together and in their order; deliveries follow
 * one another in the order they arrived.
 *
 * Sinks live from shipment to shipment, so the connection a sink opens ahead
 * during one shipment (its witness) carries its next: one handshake per
 * shipment, off the critical path. A sink that cannot check its last
 * confirmation without closing (no `checkLastConfirmed`) is closed after each
 * shipment instead, and a new one opened for the next.
 */
import type { LogSink } from '../ports';

/** Characters of lines per shipment beyond the first delivery in it: a bound on what one write holds in memory. */
export const MAX_SHIPMENT_CHARS = 4 * 1024 * 1024;
/** Shipments in flight at once, each on a sink of its own. */
export const SHIPMENTS_IN_FLIGHT = 2;

export interface Shipments {
  /** Resolves once `lines` are confirmed by the receiver; rejects with the shipment's failure. */
  ship(lines: readonly string[]): Promise<void>;
}

interface Waiting {
  lines: readonly string[];
  chars: number;
  resolve(): void;
  reject(error: unknown): void;
}

export class GroupCommit implements Shipments {
  /** Sinks between shipments, each keeping the connection it opened ahead. */
  private readonly idle: LogSink[] = [];
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;
  private readonly drained: (() => void)[] = [];
  /** Shipments sent, for tests. */
  shipments = 0;

  constructor(
    private readonly openSink: () => LogSink,
    private readonly lanes = SHIPMENTS_IN_FLIGHT,
    private readonly maxChars = MAX_SHIPMENT_CHARS,
  ) {}

  ship(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    let chars = 0;
    for (const line of lines) chars += line.length + 1;
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ lines, chars, resolve, reject });
      this.pump();
    });
  }

  /** Waits for what is queued to be shipped, then releases the sinks' connections. */
  async close(): Promise<void> {
    if (this.inFlight > 0 || this.waiting.length > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    const sinks = this.idle.splice(0);
    await Promise.all(sinks.map((sink) => sink.close().catch(() => undefined)));
  }

  /** Starts shipments while a lane is free and deliveries wait. */
  private pump(): void {
    while (this.inFlight < this.lanes && this.waiting.length > 0) {
      const group = this.take();
      this.inFlight++;
      void this.shipGroup(group).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.waiting.length === 0) for (const done of this.drained.splice(0)) done();
      });
    }
  }

  private async shipGroup(group: Waiting[]): Promise<void> {
    try {
      await this.send(group.length === 1 ? (group[0] as Waiting).lines : group.flatMap((w) => w.lines));
      for (const w of group) w.resolve();
    } catch (error) {
      for (const w of group) w.reject(error);
    }
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

  private async send(lines: readonly string[]): Promise<void> {
    const sink = this.idle.pop() ?? this.openSink();
    this.shipments++;
    try {
      await sink.send(lines);
      if (sink.checkLastConfirmed) {
        await sink.checkLastConfirmed();
        this.idle.push(sink);
        return;
      }
      await sink.close();
    } catch (error) {
      // Whatever state its connections are in, a later shipment starts on a fresh sink.
      await sink.close().catch(() => undefined);
      throw error;
    }
  }
}
