/**
 * Group commit for log-stream deliveries: one shipment in flight at a time,
 * and the deliveries that arrive meanwhile ride together in the next one.
 *
 * A confirmed shipment costs a connection and a round trip to the receiver
 * (syslog's only confirmation is the receiver closing its side after reading
 * everything; see the sink). Paid per delivery, concurrent deliveries each pay
 * it; paid per shipment, they share it. A lone delivery never waits: with
 * nothing in flight it is shipped at once. A delivery that arrives while a
 * shipment is in flight waits for that one shipment, then goes in the next,
 * with every other delivery that arrived meanwhile up to MAX_SHIPMENT_CHARS.
 *
 * `ship` resolves only once the shipment carrying the lines is confirmed and
 * the sink found no sign that the receiver went away right after confirming;
 * a failure rejects every delivery of that shipment, and the sink is replaced.
 * Each delivery's lines stay together and in their order; deliveries follow
 * one another in the order they arrived.
 *
 * The sink lives from shipment to shipment, so the connection it opens ahead
 * during one shipment (its witness) carries the next: one handshake per
 * shipment, off the critical path. A sink that cannot check its last
 * confirmation without closing (no `checkLastConfirmed`) is closed after each
 * shipment instead, and a new one opened for the next.
 */
import type { LogSink } from '../ports';

/** Characters of lines per shipment beyond the first delivery in it: a bound on what one write holds in memory. */
export const MAX_SHIPMENT_CHARS = 4 * 1024 * 1024;

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
  private sink: LogSink | undefined;
  private readonly waiting: Waiting[] = [];
  private inFlight: Promise<void> | undefined;
  /** Shipments sent, for the activity report and tests. */
  shipments = 0;

  constructor(
    private readonly openSink: () => LogSink,
    private readonly maxChars = MAX_SHIPMENT_CHARS,
  ) {}

  ship(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    let chars = 0;
    for (const line of lines) chars += line.length + 1;
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ lines, chars, resolve, reject });
      this.inFlight ??= this.drain();
    });
  }

  /** Waits for what is queued to be shipped, then releases the sink's connections. */
  async close(): Promise<void> {
    await this.inFlight;
    const sink = this.sink;
    this.sink = undefined;
    await sink?.close();
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.take();
      try {
        await this.send(group.flatMap((w) => w.lines));
        for (const w of group) w.resolve();
      } catch (error) {
        for (const w of group) w.reject(error);
      }
    }
    this.inFlight = undefined;
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
    const sink = (this.sink ??= this.openSink());
    this.shipments++;
    try {
      await sink.send(lines);
      if (sink.checkLastConfirmed) {
        await sink.checkLastConfirmed();
        return;
      }
      this.sink = undefined;
      await sink.close();
    } catch (error) {
      // Whatever state its connections are in, the next shipment starts on a fresh sink.
      if (this.sink === sink) this.sink = undefined;
      await sink.close().catch(() => undefined);
      throw error;
    }
  }
}
