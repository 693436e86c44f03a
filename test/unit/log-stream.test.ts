/**
 * The log-stream stages with fakes: parsing Auth0's three content formats,
 * the stream's event shape formatted to the API's line, ordering, and the
 * ship stage's holds, skips and records; the poller's side of the shared
 * record; retention and the silence rule.
 */
import type { Config } from '../../src/config';
import { SinkError } from '../../src/errors';
import type { LogSink } from '../../src/ports';
import { StreamActivity } from '../../src/log-stream/activity';
import { GroupCommit, type GroupCommitTimer } from '../../src/log-stream/group-commit';
import { normalizeStreamEvent } from '../../src/log-stream/normalize-event';
import { orderRecords } from '../../src/log-stream/order-records';
import { parseStreamBody } from '../../src/log-stream/parse-body';
import { receiveDelivery } from '../../src/log-stream/receive-delivery';
import { forgetBefore, logIdTime } from '../../src/storage/retention';

import { runOnce, type RunDeps } from '../../src/run-once';
import { formatLog } from '../../src/stages/format-log';
import { emptyState } from '../../src/storage/state';
import { HoldingShippedIds } from '../../src/storage/holding-shipped-ids';
import { generateEvents } from '../support/events';
import { CapturingLogger, FakeAuth0, FakeClock, logId, makeLogs, MemoryShippedIds, MemoryStore, RecordingSink } from '../support/fakes';
import { encodeBatch, toStreamRecord } from '../support/log-stream-sender';

/** README: the log_ids shipped in the last 3 days are kept. */
const SHIPPED_IDS_KEPT_MS = 3 * 24 * 3600 * 1000;

const papertrail = { system: 'auth0-logs', program: 'auth0' };
const noFilter = { minLevel: null, types: null };
const idOf = (line: string): string => (JSON.parse(line.slice(line.indexOf('{'))) as { log_id: string }).log_id;

/** A delivery's body: a JSON array of stream records with these ids. */
const body = (ids: number[]): string => JSON.stringify(ids.map((n) => ({ log_id: logId(n), data: { log_id: logId(n), type: n % 2 === 0 ? 'f' : 's', date: '2026-11-23T11:00:00.000Z' } })));

describe('parseStreamBody', () => {
  const records = generateEvents(3).map(toStreamRecord);

  it('detects each of Auth0\'s content formats from the body', () => {
    expect(parseStreamBody(encodeBatch(records, 'json-array'))).toMatchObject({ format: 'json-array', records: { length: 3 } });
    expect(parseStreamBody(encodeBatch(records, 'json-lines'))).toMatchObject({ format: 'json-lines', records: { length: 3 } });
    expect(parseStreamBody(encodeBatch(records.slice(0, 1), 'json-object'))).toMatchObject({ format: 'json-object', records: { length: 1 } });
    // CRLF line ends, blank lines and a byte order mark are tolerated.
    expect(parseStreamBody(`\ufeff${records.map((r) => JSON.stringify(r)).join('\r\n\r\n')}\r\n`).records.map((r) => r.logId)).toEqual(records.map((r) => r.log_id));
  });

  it('takes the id from the event, the wrapper, or a bare event', () => {
    const [a, b] = records as [typeof records[0], typeof records[0]];
    const { log_id: _dropped, ...withoutId } = a.data;
    const parsed = parseStreamBody(JSON.stringify([{ log_id: a.log_id, data: withoutId }, b.data, { data: { type: 's' } }, { log_id: 'not an id!', data: { type: 's' } }]));
    expect(parsed.records.map((r) => r.logId)).toEqual([a.log_id, b.log_id, undefined, undefined]);
  });

  it.each([
    ['', /empty/],
    ['   \n ', /empty/],
    ['nope', /not JSON/],
    ['[1]', /Element 1 of the array is not a JSON object/],
    ['{"a":1}\n{"b":', /Line 2 is not JSON/],
    ['null', /neither an array nor an object/],
  ])('rejects %j whole, saying why', (body, message) => {
    expect(() => parseStreamBody(body)).toThrow(message);
  });
});

describe('normalizeStreamEvent', () => {
  it('formats a streamed event to the header and fields the Management API\'s copy of it formats to, log_id and _id first', () => {
    const events = generateEvents(500, { hostileEvery: 7 });
    for (const event of events) {
      const streamed = parseStreamBody(JSON.stringify(toStreamRecord(event))).records[0]!;
      const fromStream = formatLog(normalizeStreamEvent(streamed), papertrail).line;
      const fromApi = formatLog(event, papertrail).line;
      // The JSON starts at the first '{' after the header; the fields past log_id and _id keep the order
      // Auth0 sent them in, which its documentation does not promise equal on both paths.
      const header = (line: string): string => line.slice(0, line.indexOf(' {'));
      const body = (line: string): Record<string, unknown> => JSON.parse(line.slice(line.indexOf(' {') + 1)) as Record<string, unknown>;
      expect(header(fromStream)).toBe(header(fromApi));
      expect(Object.keys(body(fromStream)).slice(0, 2)).toEqual(['log_id', '_id']);
      expect(body(fromStream)).toEqual(body(fromApi));
    }
  });

  it('marks an event without a usable log_id, keeping what it carried', () => {
    const event = normalizeStreamEvent({ logId: undefined, data: { log_id: 'bad id', type: 's', is_mobile: true, tenant_name: 't' }, position: 0 });
    expect(event).toEqual({ log_id: 'bad id', type: 's', isMobile: true, _missing_log_id: true });
  });

  it('keeps a "__proto__" field as data instead of setting the prototype', () => {
    const streamed = parseStreamBody('{"log_id":"1","data":{"type":"s","__proto__":{"polluted":true}}}').records[0]!;
    const event = normalizeStreamEvent(streamed);
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(JSON.stringify(event)).toContain('"__proto__":{"polluted":true}');
  });
});

describe('orderRecords', () => {
  it('orders by log_id, keeps one record per id, and puts records without an id last in arrival order', () => {
    const raw = [logId(3), undefined, logId(1), logId(3), logId(2), undefined].map((id, position) => ({ logId: id, data: { n: position }, position }));
    const ordered = orderRecords(raw);
    expect(ordered.withId.map((r) => r.logId)).toEqual([logId(1), logId(2), logId(3)]);
    expect(ordered.withoutId.map((r) => r.position)).toEqual([1, 5]);
    expect(ordered.repeatedInRequest).toBe(1);
  });
});

describe('receiveDelivery', () => {
  function setup() {
    const shipped = new HoldingShippedIds(new MemoryShippedIds());
    const sinks: RecordingSink[] = [];
    const clock = new FakeClock();
    const opener = { openSink: (): RecordingSink => { const sink = new RecordingSink(); sinks.push(sink); return sink; } };
    const deps = { shipped, clock, shipments: new GroupCommit(() => opener.openSink()) };
    return { shipped, sinks, deps, opener, lines: () => sinks.flatMap((s) => s.lines) };
  }

  it('ships in log_id order, closes its sink, records the ids, and skips them when Auth0 delivers them again', async () => {
    const { deps, sinks, lines, shipped } = setup();
    const first = await receiveDelivery(body([3, 1, 2]), deps, { filter: noFilter, papertrail });
    expect(first).toMatchObject({ format: 'json-array', records: 3, exported: 3, alreadyShipped: 0 });
    expect(lines().map(idOf)).toEqual([logId(1), logId(2), logId(3)]);
    expect(sinks[0]!.closed).toBe(1);
    expect(await shipped.alreadyShipped([logId(1), logId(2), logId(3)])).toEqual(new Set([logId(1), logId(2), logId(3)]));
    const again = await receiveDelivery(body([2, 3, 4]), deps, { filter: noFilter, papertrail });
    expect(again).toMatchObject({ exported: 1, alreadyShipped: 2 });
    expect(lines().map(idOf)).toEqual([logId(1), logId(2), logId(3), logId(4)]);
    expect(shipped.holding).toBe(0);
  });

  it('records nothing and rejects when the sink fails on send or on close, so the redelivery ships everything', async () => {
    for (const where of ['send', 'close'] as const) {
      const { deps, opener, shipped, lines } = setup();
      const openSink = opener.openSink;
      opener.openSink = () => {
        const sink = openSink();
        if (where === 'send') sink.failOnPage.set(1, new SinkError('down', { code: 'SINK_UNREACHABLE' }));
        else sink.failOnClose = new SinkError('gone', { code: 'SINK_RECEIVER_GONE' });
        return sink;
      };
      await expect(receiveDelivery(body([1, 2]), deps, { filter: noFilter, papertrail })).rejects.toThrow(SinkError);
      expect(await shipped.alreadyShipped([logId(1), logId(2)])).toEqual(new Set());
      expect(shipped.holding).toBe(0);
      opener.openSink = openSink;
      await expect(receiveDelivery(body([1, 2]), deps, { filter: noFilter, papertrail })).resolves.toMatchObject({ exported: 2 });
      expect(lines().map(idOf).slice(-2)).toEqual([logId(1), logId(2)]);
    }
  });

  it('ships each id once when parallel deliveries carry the same ids', async () => {
    const { deps, lines } = setup();
    const outcomes = await Promise.all([body([1, 2, 3, 4]), body([3, 4, 5]), body([5, 1, 6]), body([1, 2, 3, 4, 5, 6])].map((b) => receiveDelivery(b, deps, { filter: noFilter, papertrail })));
    expect(lines().map(idOf).sort()).toEqual([1, 2, 3, 4, 5, 6].map(logId));
    expect(outcomes.reduce((n, o) => n + o.exported, 0)).toBe(6);
    expect(outcomes.reduce((n, o) => n + o.alreadyShipped, 0)).toBe(16 - 6);
  });

  it('filters with LOG_TYPES like the poller, and records only what it shipped', async () => {
    const { deps, lines, shipped } = setup();
    const outcome = await receiveDelivery(body([1, 2, 3, 4]), deps, { filter: { minLevel: null, types: new Set(['f']) }, papertrail });
    expect(outcome).toMatchObject({ exported: 2, filteredOut: 2 });
    expect(lines().map(idOf)).toEqual([logId(2), logId(4)]);
    expect(await shipped.alreadyShipped([1, 2, 3, 4].map(logId))).toEqual(new Set([logId(2), logId(4)]));
  });
});

/** README: a confirmed shipment can be put in doubt for 1 s after its confirmation. */
const IN_DOUBT_MS = 1_000;

/** The group commit's clock and timer, moved by the test. */
class ManualTimer implements GroupCommitTimer {
  current = 0;
  private due: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.current;
  }
  after(ms: number, fn: () => void): () => void {
    const entry = { at: this.current + ms, fn };
    this.due.push(entry);
    return () => { this.due = this.due.filter((e) => e !== entry); };
  }
  get scheduled(): number {
    return this.due.length;
  }
  advance(ms: number): void {
    this.current += ms;
    const fire = this.due.filter((e) => e.at <= this.current);
    this.due = this.due.filter((e) => e.at > this.current);
    for (const e of fire) e.fn();
  }
}

/** A sink whose sends wait until the test lets them through, counting opens and checks. */
class GatedSink implements LogSink {
  pages: string[][] = [];
  closed = 0;
  checks = 0;
  failCheck: Error | undefined;
  private gates: { release: () => void; fail: (e: Error) => void }[] = [];
  async send(lines: readonly string[]): Promise<void> {
    await new Promise<void>((release, fail) => this.gates.push({ release, fail }));
    this.pages.push([...lines]);
  }
  get waiting(): number {
    return this.gates.length;
  }
  confirm(): void {
    this.gates.shift()!.release();
  }
  fail(error: Error): void {
    this.gates.shift()!.fail(error);
  }
  async checkLastConfirmed(): Promise<void> {
    this.checks++;
    const failure = this.failCheck;
    this.failCheck = undefined;
    if (failure) throw failure;
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

describe('group commit of log-stream deliveries', () => {
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 1000 && !condition(); i++) await settle();
    if (!condition()) throw new Error('condition not reached');
  }
  async function quiet(): Promise<void> {
    for (let i = 0; i < 20; i++) await settle();
  }
  function setup(lanes = 1) {
    const shipped = new HoldingShippedIds(new MemoryShippedIds());
    const sinks: GatedSink[] = [];
    const timer = new ManualTimer();
    const shipments = new GroupCommit(() => { const sink = new GatedSink(); sinks.push(sink); return sink; }, lanes, undefined, timer);
    // Hybrid mode's hand-over (see hybrid()): what each answered delivery became once out of doubt.
    const afterAnswer: { settled: ('recorded' | 'left to the poller')[]; settling: Promise<void>[] } = { settled: [], settling: [] };
    const deps: Parameters<typeof receiveDelivery>[1] = { shipped, clock: new FakeClock(), shipments };
    const hybrid = (): void => {
      deps.afterAnswer = (settling) => {
        afterAnswer.settling.push(settling.then(() => { afterAnswer.settled.push('recorded'); }, () => { afterAnswer.settled.push('left to the poller'); }));
      };
    };
    const answered: string[] = [];
    const deliver = (name: string, ids: number[]) =>
      receiveDelivery(body(ids), deps, { filter: noFilter, papertrail }).then(
        (outcome) => { answered.push(name); return outcome; },
        (error: unknown) => { answered.push(`${name} failed`); throw error; },
      );
    const recorded = async (ids: number[]) => [...(await shipped.alreadyShipped(ids.map(logId)))].sort();
    return { shipped, sinks, shipments, deliver, answered, timer, recorded, hybrid, afterAnswer, sink: () => sinks[sinks.length - 1]! };
  }

  it('in hybrid mode answers a delivery once its shipment is confirmed, and keeps its ids held, so the poller waits, until out of doubt and recorded', async () => {
    const { deliver, answered, sink, sinks, shipped, timer, recorded, hybrid, afterAnswer } = setup();
    hybrid();
    const lone = deliver('a', [1, 2]);
    await until(() => sinks.length === 1 && sink().waiting === 1);
    await quiet();
    expect(answered).toEqual([]);
    sink().confirm();
    await expect(lone).resolves.toMatchObject({ exported: 2 });
    expect(await recorded([1, 2])).toEqual([]);
    // The poller's page with the same ids waits for the hold, then finds them recorded.
    let pollerHolds = false;
    const poller = shipped.hold([logId(1), logId(2)]).then(() => (pollerHolds = true));
    await quiet();
    expect(pollerHolds).toBe(false);
    expect(timer.scheduled).toBe(1);
    timer.advance(IN_DOUBT_MS);
    await poller;
    expect(await recorded([1, 2])).toEqual([1, 2].map(logId).sort());
    await Promise.all(afterAnswer.settling);
    expect(afterAnswer.settled).toEqual(['recorded']);
    shipped.release([logId(1), logId(2)]);
    expect(shipped.holding).toBe(0);
  });

  it('in hybrid mode leaves a delivery answered on confirmation and put in doubt afterwards unrecorded, and releases its ids for the poller to ship', async () => {
    const { deliver, answered, sink, sinks, shipped, recorded, hybrid, afterAnswer } = setup();
    hybrid();
    const first = deliver('a', [1, 2]);
    await until(() => sinks.length === 1 && sink().waiting === 1);
    sink().confirm();
    await expect(first).resolves.toMatchObject({ exported: 2 });
    const second = deliver('b', [3]);
    await until(() => sink().waiting === 1);
    // The next send finds the receiver gone: both shipments are in doubt. b was never confirmed: 503.
    sink().fail(new SinkError('gone', { code: 'SINK_RECEIVER_GONE', inDoubt: 2 }));
    await expect(second).rejects.toMatchObject({ code: 'SINK_RECEIVER_GONE' });
    expect(answered).toEqual(['a', 'b failed']);
    await Promise.all(afterAnswer.settling);
    expect(afterAnswer.settled).toEqual(['left to the poller']);
    expect(await recorded([1, 2, 3])).toEqual([]);
    expect(shipped.holding).toBe(0);
  });

  it('ships a lone delivery at once, and the deliveries arriving meanwhile together in the next shipment, each answered only once its shipment can no longer be put in doubt', async () => {
    const { deliver, answered, sink, sinks, shipped, timer, recorded } = setup();
    const lone = deliver('a', [1, 2]);
    await until(() => sinks.length === 1 && sink().waiting === 1);
    const joined = [deliver('b', [5, 4]), deliver('c', [3]), deliver('d', [7, 6])];
    await quiet();
    expect(sink().waiting).toBe(1);
    expect(answered).toEqual([]);
    sink().confirm();
    // The next shipment leaves at once; a's stays unanswered while a failure could still put it in doubt.
    await until(() => sink().waiting === 1);
    await quiet();
    expect(answered).toEqual([]);
    expect(await recorded([1, 2])).toEqual([]);
    timer.advance(IN_DOUBT_MS);
    sink().confirm();
    // Confirmed a whole window after a's, the second shipment settles a's at once.
    await lone;
    expect(answered).toEqual(['a']);
    await quiet();
    expect(answered).toEqual(['a']);
    expect(await recorded([3, 4, 5, 6, 7])).toEqual([]);
    timer.advance(IN_DOUBT_MS);
    await Promise.all(joined);
    expect(answered.slice(1).sort()).toEqual(['b', 'c', 'd']);
    // One sink for both shipments: each delivery's records in log_id order, deliveries in arrival order.
    expect(sinks).toHaveLength(1);
    expect(sink().pages.map((page) => page.map(idOf))).toEqual([[1, 2].map(logId), [4, 5, 3, 6, 7].map(logId)]);
    // After each shipment, and once more when the window after the last had passed.
    expect(sink().checks).toBe(3);
    expect(sink().closed).toBe(0);
    expect(await recorded([1, 2, 3, 4, 5, 6, 7])).toEqual([1, 2, 3, 4, 5, 6, 7].map(logId).sort());
    expect(shipped.holding).toBe(0);
  });

  it('answers 503 for a delivery already confirmed when the next send finds the receiver gone and puts it in doubt, records nothing, and ships it again when Auth0 redelivers', async () => {
    const { deliver, answered, sink, sinks, shipped, recorded, timer } = setup();
    const first = deliver('a', [1, 2]);
    await until(() => sinks.length === 1 && sink().waiting === 1);
    sink().confirm();
    await until(() => sink().checks === 1);
    const second = deliver('b', [3]);
    await until(() => sink().waiting === 1);
    sink().fail(new SinkError('gone', { code: 'SINK_RECEIVER_GONE', inDoubt: 2 }));
    await expect(first).rejects.toMatchObject({ code: 'SINK_RECEIVER_GONE' });
    await expect(second).rejects.toMatchObject({ code: 'SINK_RECEIVER_GONE' });
    expect(answered.sort()).toEqual(['a failed', 'b failed']);
    expect(await recorded([1, 2, 3])).toEqual([]);
    expect(shipped.holding).toBe(0);
    expect(sinks[0]!.closed).toBe(1);
    const again = deliver('a again', [1, 2]);
    await until(() => sinks.length === 2 && sink().waiting === 1);
    sink().confirm();
    await until(() => sink().checks === 1);
    timer.advance(IN_DOUBT_MS);
    await expect(again).resolves.toMatchObject({ exported: 2, alreadyShipped: 0 });
    expect(await recorded([1, 2])).toEqual([1, 2].map(logId).sort());
  });

  it('answers a lone delivery once the in-doubt window after its confirmation has passed and the sink still finds the receiver there, or 503 when it does not', async () => {
    for (const receiver of ['there', 'gone'] as const) {
      const { deliver, answered, sink, sinks, timer, recorded, shipped } = setup();
      const lone = deliver('a', [1]);
      await until(() => sinks.length === 1 && sink().waiting === 1);
      sink().confirm();
      await until(() => sink().checks === 1);
      timer.advance(IN_DOUBT_MS - 1);
      await quiet();
      expect(answered).toEqual([]);
      expect(sink().checks).toBe(1);
      if (receiver === 'gone') sink().failCheck = new SinkError('gone', { code: 'SINK_RECEIVER_GONE', inDoubt: 1 });
      timer.advance(1);
      if (receiver === 'there') {
        await expect(lone).resolves.toMatchObject({ exported: 1 });
        expect(await recorded([1])).toEqual([logId(1)]);
        expect(sink().closed).toBe(0);
      } else {
        await expect(lone).rejects.toMatchObject({ code: 'SINK_RECEIVER_GONE' });
        expect(await recorded([1])).toEqual([]);
        expect(sink().closed).toBe(1);
      }
      expect(sink().checks).toBe(2);
      expect(shipped.holding).toBe(0);
      expect(timer.scheduled).toBe(0);
    }
  });

  it('settles a confirmed delivery at once when later sends on its sink put it out of reach of any doubt', async () => {
    const { deliver, answered, sink, sinks, timer } = setup();
    const ship = async (name: string, id: number) => {
      const delivery = deliver(name, [id]);
      await until(() => sinks[0]?.waiting === 1);
      sink().confirm();
      await until(() => sink().checks === sinks[0]!.pages.length);
      // Wrapped: awaiting the helper must not wait for the answer.
      return { delivery };
    };
    const { delivery: a } = await ship('a', 1);
    await ship('b', 2);
    await quiet();
    // A receiver going away puts the last two confirmed shipments in doubt: a is still within reach.
    expect(answered).toEqual([]);
    await ship('c', 3);
    await expect(a).resolves.toMatchObject({ exported: 1 });
    await quiet();
    expect(answered).toEqual(['a']);
    expect(sinks).toHaveLength(1);
    expect(timer.now()).toBe(0);
    timer.advance(IN_DOUBT_MS);
    await until(() => answered.length === 3);
  });

  it('on shutdown settles the deliveries a closing sink does not put in doubt, rejects those it does, and leaves no check scheduled', async () => {
    for (const close of ['clean', 'gone'] as const) {
      const { deliver, sink, sinks, shipments, timer, recorded, shipped } = setup();
      const lone = deliver('a', [1]);
      await until(() => sinks.length === 1 && sink().waiting === 1);
      sink().confirm();
      await until(() => sink().checks === 1);
      expect(timer.scheduled).toBe(1);
      if (close === 'gone') sink().close = async () => { sink().closed++; throw new SinkError('gone', { code: 'SINK_RECEIVER_GONE', inDoubt: 1 }); };
      await shipments.close();
      if (close === 'clean') await expect(lone).resolves.toMatchObject({ exported: 1 });
      else await expect(lone).rejects.toMatchObject({ code: 'SINK_RECEIVER_GONE' });
      expect(await recorded([1])).toEqual(close === 'clean' ? [logId(1)] : []);
      expect(shipped.holding).toBe(0);
      expect(sink().closed).toBe(1);
      expect(timer.scheduled).toBe(0);
    }
  });

  it('fails every delivery of a shipment the receiver did not confirm, records none, and ships them all again when Auth0 redelivers', async () => {
    for (const how of ['send', 'check'] as const) {
      const { deliver, sink, sinks, shipped, shipments, timer } = setup();
      const first = deliver('a', [1]);
      await until(() => sinks.length === 1 && sink().waiting === 1);
      const joined = [deliver('b', [2, 3]), deliver('c', [4])];
      await quiet();
      sink().confirm();
      await until(() => sink().waiting === 1);
      // Not a receiver gone, or one putting only the failed shipment in doubt: a stays shipped.
      if (how === 'send') sink().fail(new SinkError('reset', { code: 'SINK_RESET' }));
      else {
        sink().failCheck = new SinkError('gone', { code: 'SINK_RECEIVER_GONE', inDoubt: 1 });
        sink().confirm();
      }
      const outcomes = await Promise.allSettled(joined);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
      await expect(first).resolves.toMatchObject({ exported: 1 });
      expect(await shipped.alreadyShipped([1, 2, 3, 4].map(logId))).toEqual(new Set([logId(1)]));
      expect(shipped.holding).toBe(0);
      // The failed sink is released; the redelivery goes out on a fresh one and loses nothing.
      expect(sinks[0]!.closed).toBe(1);
      const again = deliver('b again', [2, 3, 4]);
      await until(() => sinks.length === 2 && sink().waiting === 1);
      sink().confirm();
      await until(() => sink().checks === 1);
      timer.advance(IN_DOUBT_MS);
      await expect(again).resolves.toMatchObject({ exported: 3, alreadyShipped: 0 });
      expect(sink().pages.flat().map(idOf)).toEqual([2, 3, 4].map(logId));
      expect(shipments.shipments).toBe(3);
    }
  });

  it('with two lanes, ships a second delivery at once on a second sink, and groups only those that arrive while both are busy', async () => {
    const { deliver, answered, sinks, shipped, timer } = setup(2);
    const first = deliver('a', [1]);
    await until(() => sinks.length === 1 && sinks[0]!.waiting === 1);
    const second = deliver('b', [2]);
    await until(() => sinks.length === 2 && sinks[1]!.waiting === 1);
    const joined = [deliver('c', [3]), deliver('d', [4])];
    await quiet();
    expect(sinks).toHaveLength(2);
    sinks[1]!.confirm();
    // c and d go together on the lane that freed up, while a's shipment is still unconfirmed.
    await until(() => sinks[1]!.waiting === 1);
    timer.advance(IN_DOUBT_MS);
    sinks[1]!.confirm();
    await second;
    expect(answered).toEqual(['b']);
    await until(() => sinks[1]!.checks === 2);
    sinks[0]!.confirm();
    await until(() => sinks[0]!.checks === 1);
    // Each lane's last shipment is answered once the window after it passed, though no later send came.
    timer.advance(IN_DOUBT_MS);
    await Promise.all([first, ...joined]);
    expect(answered.slice(1).sort()).toEqual(['a', 'c', 'd']);
    expect(sinks.map((s) => s.pages.map((page) => page.map(idOf)))).toEqual([[[logId(1)]], [[logId(2)], [logId(3), logId(4)]]]);
    expect(await shipped.alreadyShipped([1, 2, 3, 4].map(logId))).toEqual(new Set([1, 2, 3, 4].map(logId)));
    expect(timer.scheduled).toBe(0);
  });

  it('bounds a shipment\'s size: the deliveries beyond it wait for the next shipment', async () => {
    const sinks: GatedSink[] = [];
    const timer = new ManualTimer();
    const shipments = new GroupCommit(() => { const sink = new GatedSink(); sinks.push(sink); return sink; }, 1, 25, timer);
    const line = (n: number) => `line ${String(n).padStart(4, '0')}`; // 9 characters + LF
    const first = shipments.ship([line(1)]);
    await until(() => sinks[0]?.waiting === 1);
    const rest = [shipments.ship([line(2)]), shipments.ship([line(3)]), shipments.ship([line(4), line(5), line(6)])];
    sinks[0]!.confirm();
    await until(() => sinks[0]!.waiting === 1);
    sinks[0]!.confirm();
    await until(() => sinks[0]!.waiting === 1);
    sinks[0]!.confirm();
    await until(() => sinks[0]!.checks === 3);
    timer.advance(IN_DOUBT_MS);
    await Promise.all([first, ...rest]);
    // A delivery larger than the bound still goes, alone.
    expect(sinks[0]!.pages).toEqual([[line(1)], [line(2), line(3)], [line(4), line(5), line(6)]]);
  });
});

describe('HoldingShippedIds', () => {
  it('makes a second holder of an id wait until the first releases it', async () => {
    const shipped = new HoldingShippedIds(new MemoryShippedIds());
    await shipped.hold(['a', 'b']);
    let second = false;
    const waiting = shipped.hold(['b', 'c']).then(() => (second = true));
    await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    shipped.release(['a', 'b']);
    await waiting;
    expect(second).toBe(true);
    shipped.release(['b', 'c']);
    expect(shipped.holding).toBe(0);
  });
});

describe('the poller with a shared record of shipped ids', () => {
  const config = (): Config => ({
    auth0: { domain: 't.auth0.com', clientId: 'id', clientSecret: 'secret' }, papertrail: { host: 'h', port: 1, token: null, ...papertrail },
    batchSize: 10, pagesPerShipment: 1, filter: noFilter, startFrom: null, storageFile: 'unused', stateUrl: null, legacyStateFile: 'unused', maxRunMs: 60_000, leaseMs: 30_000, adminToken: null, alerts: { webhookUrl: null, sendSuccess: false, lagThresholdMs: 3_600_000 }, warnings: [],
  });
  function setup(count: number) {
    const shipped = new HoldingShippedIds(new MemoryShippedIds());
    const deps = { store: new MemoryStore({ ...emptyState(), checkpoint: logId(0) }), auth0: new FakeAuth0(makeLogs(count)), sink: new RecordingSink(), clock: new FakeClock(), log: new CapturingLogger(), shipped };
    return { deps, shipped, run: () => runOnce(deps as RunDeps, config()) };
  }

  it('skips what the stream shipped, reports it, and records what it ships', async () => {
    const { deps, shipped, run } = setup(25);
    await shipped.record([2, 3, 15].map(logId), deps.clock.now());
    const report = await run();
    expect(report).toMatchObject({ status: 'ok', fetched: 25, exported: 22, alreadyShipped: 3, checkpoint: logId(25) });
    expect(deps.sink.lines.map(idOf)).not.toContain(logId(15));
    expect((await shipped.alreadyShipped(makeLogs(25).map((l) => l.log_id as string))).size).toBe(25);
    expect(shipped.holding).toBe(0);
  });

  it('holds no id after a failed shipment, so the next run and the stream are not kept waiting', async () => {
    const { deps, shipped, run } = setup(50);
    deps.sink.failOnPage.set(2, new SinkError('reset', { code: 'SINK_RESET' }));
    expect(await run()).toMatchObject({ status: 'failed', checkpoint: logId(10) });
    expect(shipped.holding).toBe(0);
    deps.sink.failOnPage.clear();
    expect(await run()).toMatchObject({ status: 'ok', checkpoint: logId(50) });
    expect(shipped.holding).toBe(0);
  });

  it('does not record a page the sink reports in doubt, so the next run ships it again', async () => {
    const { deps, shipped, run } = setup(30);
    // Each send takes 1.5 s, so page 1 was confirmed more than the sink's 1 s in-doubt window before page 2 was.
    const send = deps.sink.send.bind(deps.sink);
    deps.sink.send = async (lines) => {
      deps.clock.current += 1_500;
      return send(lines);
    };
    deps.sink.failOnPage.set(3, new SinkError('receiver gone', { code: 'SINK_RECEIVER_GONE' }));
    const report = await run();
    expect(report).toMatchObject({ status: 'failed', checkpoint: logId(10) });
    const recorded = await shipped.alreadyShipped(makeLogs(30).map((l) => l.log_id as string));
    // Page 1 was followed by a successful send, beyond the window; page 2 is the one in doubt.
    expect([...recorded].sort()).toEqual(makeLogs(10).map((l) => l.log_id));
    expect(shipped.holding).toBe(0);
  });
});

describe('retention of shipped ids', () => {
  it('keeps everything after the poller\'s checkpoint and within the late-delivery margin', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(logIdTime(`900${'20261129110000'}${'0'.repeat(39)}`)).toBe(Date.parse('2026-11-29T11:00:00Z'));
    expect(forgetBefore(now, null, true)).toBe(now - SHIPPED_IDS_KEPT_MS);
    const oldCheckpoint = `900${'20261120000000'}${'1'.repeat(39)}`;
    expect(forgetBefore(now, oldCheckpoint, true)).toBe(Date.parse('2026-11-20T00:00:00Z') - 1000);
    expect(forgetBefore(now, oldCheckpoint, false)).toBe(now - SHIPPED_IDS_KEPT_MS);
  });
});

describe('StreamActivity', () => {
  it('reports a stream silent past the threshold while the poller fills gaps, and only then', () => {
    let t = 0;
    const activity = new StreamActivity('hybrid', 60_000, () => t);
    const counts = { records: 5, exported: 5, filteredOut: 0, alreadyShipped: 0, repeatedInRequest: 0, withoutLogId: 0 };
    activity.delivered(counts);
    expect(activity.snapshot().status).toBe('ok');
    t = 120_000;
    // Silent, but nothing new: Auth0 may simply have no events.
    activity.pollerRan({ status: 'ok', exported: 0, alreadyShipped: 0 });
    expect(activity.snapshot().status).toBe('ok');
    activity.pollerRan({ status: 'ok', exported: 7, alreadyShipped: 0 });
    expect(activity.snapshot()).toMatchObject({ status: 'silent', gapFills: 7, problem: expect.stringMatching(/paused or suspended/) });
    activity.delivered(counts);
    expect(activity.snapshot().status).toBe('ok');
  });
});
