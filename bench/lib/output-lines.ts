/**
 * Reading what rsyslogd wrote, without holding it in memory.
 *
 * The receiver helper writes one JSON record per message to
 * `<dir>/out/messages.<n>.jsonl` (one file per rsyslogd start). Its own
 * `waitForCount`/`messages()` parse every record into memory: fine for tests,
 * but 1M events make ~2 GB of output, and parsing 100k records inside a timed
 * section would be measured as shipping time. So timing only counts LF bytes,
 * and verification streams the files once, afterwards.
 */
import { closeSync, fstatSync, openSync, readSync, createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareIds } from '../../test/support/events';
import { logIdOfRecord, outputFilesIn } from '../../test/support/rsyslog-receiver';

const CHUNK_BYTES = 4 * 1024 * 1024;

/** Counts complete lines in the output files, reading only bytes it has not seen yet. */
export class LineCounter {
  private readonly offsets = new Map<string, number>();
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private total = 0;

  constructor(private readonly outDir: string) {}

  count(): number {
    for (const file of outputFilesIn(this.outDir)) {
      const fd = openSync(file, 'r');
      try {
        let offset = this.offsets.get(file) ?? 0;
        const size = fstatSync(fd).size;
        while (offset < size) {
          const n = readSync(fd, this.buffer, 0, Math.min(CHUNK_BYTES, size - offset), offset);
          if (n === 0) break;
          // Only up to the last LF: a partly written record is counted once it is complete.
          const lastLf = this.buffer.lastIndexOf(0x0a, n - 1);
          if (lastLf === -1) break;
          for (let at = this.buffer.indexOf(0x0a, 0); at !== -1 && at <= lastLf; at = this.buffer.indexOf(0x0a, at + 1)) this.total++;
          offset += lastLf + 1;
        }
        this.offsets.set(file, offset);
      } finally {
        closeSync(fd);
      }
    }
    return this.total;
  }

  /** Polls until at least `n` lines are there; throws with the count reached after `timeoutMs`. */
  async waitFor(n: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.count();
      if (got >= n) return got;
      if (Date.now() > deadline) throw new Error(`receiver has ${got} of ${n} lines after ${timeoutMs} ms`);
      await sleep(2);
    }
  }
}

export interface OutputCheck {
  expected: number;
  /** Lines in the output. */
  lines: number;
  /** Distinct expected events received. */
  delivered: number;
  missing: number;
  /** Extra copies beyond the first. */
  duplicates: number;
  /** Events whose first copy arrived after a later event's. */
  outOfOrder: number;
  /** Lines whose event is not among the expected ones. */
  unexpected: number;
  /** Lines without a readable log_id. */
  unreadable: number;
}

export function deliveredExactlyOnce(check: OutputCheck): boolean {
  return check.missing === 0 && check.duplicates === 0 && check.unexpected === 0 && check.unreadable === 0;
}

/**
 * Checks that the output holds events 0..expected-1 (ids from `idAt`, in
 * log_id order) exactly once each. One pass, constant memory apart from a
 * bit per expected event.
 */
export async function checkOutput(outDir: string, expected: number, idAt: (position: number) => string): Promise<OutputCheck> {
  const seen = new Uint8Array(Math.ceil(expected / 8));
  const check: OutputCheck = { expected, lines: 0, delivered: 0, missing: 0, duplicates: 0, outOfOrder: 0, unexpected: 0, unreadable: 0 };
  let next = 0;
  let highest = -1;

  const positionOf = (id: string): number => {
    // Delivery is normally in order, so the next position is almost always the answer.
    if (next < expected && idAt(next) === id) return next;
    let lo = 0;
    let hi = expected;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareIds(idAt(mid), id);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  };

  for (const file of outputFilesIn(outDir)) {
    const lines = createInterface({ input: createReadStream(file, { highWaterMark: 1024 * 1024 }), crlfDelay: Infinity });
    for await (const line of lines) {
      check.lines++;
      const id = logIdOfRecord(line);
      if (id === undefined) {
        check.unreadable++;
        continue;
      }
      const position = positionOf(id);
      if (position === -1) {
        check.unexpected++;
        continue;
      }
      const byte = position >> 3;
      const bit = 1 << (position & 7);
      if (((seen[byte] as number) & bit) !== 0) {
        check.duplicates++;
        continue;
      }
      seen[byte] = (seen[byte] as number) | bit;
      check.delivered++;
      if (position < highest) check.outOfOrder++;
      highest = Math.max(highest, position);
      next = position + 1;
    }
  }
  check.missing = expected - check.delivered;
  return check;
}
