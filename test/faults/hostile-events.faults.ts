/**
 * Promise: whatever an event contains, it reaches Papertrail as exactly one
 * well-formed syslog message of at most 100,000 bytes (Papertrail's limit,
 * LF included) whose MSG parses as JSON: line breaks, NUL and other controls,
 * lone surrogates, Unicode line separators, megabyte-sized details, objects
 * nested a thousand levels deep and very long strings cannot split a message,
 * corrupt it or make it too large. An event that does not fit is cut down to
 * its identifying fields with a `_truncated` marker, never dropped.
 *
 * The events are crafted one by one (startFakeTenant({events})) and checked
 * one by one, so a failure names the event that broke.
 */
import { eventAt, hostileStrings, type TenantEvent } from '../support/events';
import { formatLog } from '../../src/stages/format-log';
import type { ReceivedMessage } from '../support/rsyslog-receiver';
import { recordFigures, RANK, stopwatch } from './support/figures';
import { dayAgo, useHarness } from './support/harness';
import { logIdOf } from './support/received';

/** README: a frame never exceeds 100,000 bytes. */
const MAX_FRAME_BYTES = 100_000;

const h = useHarness();
const FORMAT = { system: 'auth0-logs', program: 'auth0' };

function nested(depth: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 0; i < depth; i++) {
    const child: Record<string, unknown> = { level: i + 1 };
    node['next'] = child;
    node = child;
  }
  return root;
}

/** Pads `event.details.pad` so that its frame, untruncated and LF included, is exactly `bytes` long. */
function sizedTo(event: TenantEvent, bytes: number): TenantEvent {
  const unpadded = Buffer.byteLength(formatLog({ ...event, details: { pad: '' } }, FORMAT).line) + 1;
  // ASCII padding adds one byte per character to the frame, escaped or not.
  return { ...event, details: { pad: 'p'.repeat(bytes - unpadded) } };
}

/** What each event tests, whether it must arrive truncated, and how it is made from an ordinary event. */
const HOSTILE: ReadonlyArray<{ what: string; truncated: boolean; make: (e: TenantEvent) => TenantEvent }> = [
  { what: 'CR, LF, CRLF and a forged syslog header', truncated: false, make: (e) => ({ ...e, description: 'line one\nline two\r\n<134>1 2025-01-01T00:00:00Z evil.example forged - - - injected\rend', user_name: 'a\r\nb' }) },
  { what: 'NUL and other C0/C1 controls, in values and keys', truncated: false, make: (e) => ({ ...e, description: 'nul\u0000byte \u0001\u0007\u001b[31mred\u001b[0m\u007f\u0085 end', details: { 'key\u0000with\nnul': '\u0000'.repeat(16) } }) },
  { what: 'lone surrogates, in values and keys', truncated: false, make: (e) => ({ ...e, description: 'high \uD800 low \uDC00 reversed \uDC00\uD800 end', details: { 'key\uDBFF': 'value\uDFFF' } }) },
  { what: 'U+2028, U+2029 and U+0085 line separators', truncated: false, make: (e) => ({ ...e, description: 'a\u2028b\u2029c\u0085d' }) },
  { what: 'every hostile string of the test corpus at once', truncated: false, make: (e) => ({ ...e, description: hostileStrings.join(''), details: Object.fromEntries(hostileStrings.map((s, i) => [s, hostileStrings[(i + 1) % hostileStrings.length]])) }) },
  { what: 'a type and date that try to forge the header', truncated: false, make: (e) => ({ ...e, type: 's\n<134>1 forged', date: '2025-01-01T00:00:00Z\r\nforged' }) },
  { what: '1 MB of ASCII details', truncated: true, make: (e) => ({ ...e, details: { blob: 'A'.repeat(1024 * 1024) } }) },
  { what: '1 MB of multibyte details (CJK and emoji)', truncated: true, make: (e) => ({ ...e, details: { blob: '東京🙂'.repeat(105_000) } }) },
  { what: 'objects nested 1,000 levels deep', truncated: false, make: (e) => ({ ...e, details: nested(1_000) }) },
  { what: 'objects nested 4,000 levels deep (and too large)', truncated: true, make: (e) => ({ ...e, details: { deep: nested(4_000), filler: 'f'.repeat(60_000) } }) },
  { what: 'a 300,000-character description', truncated: true, make: (e) => ({ ...e, description: 'x'.repeat(300_000) }) },
  { what: 'long multibyte strings in every field kept when truncating, cut mid-pair', truncated: true, make: (e) => ({ ...e, description: `a${'🙂'.repeat(150_000)}`, user_name: `b${'ü'.repeat(150_000)}`, client_name: `c${'\uD800'.repeat(50_000)}` }) },
  { what: '100,000 NUL characters (600 KB once escaped)', truncated: true, make: (e) => ({ ...e, description: '\u0000'.repeat(100_000) }) },
  { what: '50,000 U+2028 (300 KB once escaped)', truncated: true, make: (e) => ({ ...e, description: '\u2028'.repeat(50_000) }) },
  { what: 'a 200,000-character key', truncated: true, make: (e) => ({ ...e, details: { ['k'.repeat(200_000)]: 1 } }) },
  { what: '5,000 top-level fields with long names', truncated: true, make: (e) => ({ ...e, ...Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`field_${i}_${'n'.repeat(100)}`, i])) }) },
  { what: 'a frame of exactly 100,000 bytes (kept whole)', truncated: false, make: (e) => sizedTo(e, MAX_FRAME_BYTES) },
  { what: 'a frame of 100,001 bytes (truncated)', truncated: true, make: (e) => sizedTo(e, MAX_FRAME_BYTES + 1) },
];

/** Characters some readers take as the end of a line or of a string. */
const LINE_BREAKING = /[\u0000-\u001f\u0085\u2028\u2029]/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Everything wrong with the one message for `event`, or [] when it is well-formed. */
function problemsOf(event: TenantEvent, truncated: boolean, copies: readonly ReceivedMessage[]): string[] {
  if (copies.length !== 1) return [`${copies.length} messages instead of 1`];
  const message = copies[0] as ReceivedMessage;
  const problems: string[] = [];
  const frameBytes = Buffer.byteLength(message.raw) + 1;
  if (frameBytes > MAX_FRAME_BYTES) problems.push(`frame of ${frameBytes} bytes`);
  if (LINE_BREAKING.test(message.msg)) problems.push('raw control or line-separator character in MSG');
  if (message.hostname !== FORMAT.system || message.appname !== FORMAT.program) problems.push(`header ${message.hostname} ${message.appname}`);
  if (!/^[\x21-\x7e]{1,32}$/.test(message.msgid)) problems.push(`MSGID ${JSON.stringify(message.msgid)}`);
  if (message.timestamp !== '-' && !ISO_MS.test(message.timestamp)) problems.push(`TIMESTAMP ${JSON.stringify(message.timestamp)}`);
  const parsed = JSON.parse(message.msg) as Record<string, unknown>;
  if ((parsed['_truncated'] !== undefined) !== truncated) problems.push(truncated ? 'not truncated' : 'truncated');
  if (parsed['_truncated'] === undefined) {
    // Kept whole: the JSON is the event's, character for character (lone surrogates as \u escapes).
    if (JSON.stringify(parsed) !== JSON.stringify(JSON.parse(JSON.stringify(event)))) problems.push('JSON differs from the event');
  } else if (parsed['log_id'] !== event.log_id) {
    problems.push('truncated form lost the log_id');
  }
  return problems;
}

describe('hostile events', () => {
  it('ships each hostile event as exactly one well-formed syslog message of at most 100,000 bytes whose MSG is JSON', async () => {
    const elapsed = stopwatch();
    const start = dayAgo();
    const events = HOSTILE.map(({ make }, i) => make(eventAt(i, { start, seed: 5 })));
    const tenant = await h.tenant({ events });
    const receiver = await h.receiver();
    // Small pages: a failure of one page then implicates few events.
    const result = await h.run(h.env(tenant, receiver, { BATCH_SIZE: '5' }));
    const received = await receiver.messages();

    const byId = new Map<string, ReceivedMessage[]>();
    const strays: ReceivedMessage[] = [];
    for (const message of received) {
      const id = logIdOf(message);
      if (id === undefined) strays.push(message);
      else byId.set(id, [...(byId.get(id) ?? []), message]);
    }
    const verdicts = HOSTILE.map(({ what, truncated }, i) => {
      const event = events[i] as TenantEvent;
      return { what, problems: problemsOf(event, truncated, byId.get(event.log_id) ?? []) };
    });
    const delivered = events.filter((e) => (byId.get(e.log_id)?.length ?? 0) > 0).length;
    const largest = Math.max(0, ...received.map((m) => Buffer.byteLength(m.raw) + 1));
    recordFigures({
      scenario: `hostile events (${events.length} kinds)`,
      rank: RANK.hostile,
      expected: events.length,
      delivered,
      missing: events.length - delivered,
      duplicates: received.length - strays.length - delivered,
      runs: 1,
      wallMs: elapsed(),
      notes: `largest frame ${largest.toLocaleString('en-US')} bytes, ${String(result.report?.['truncated'])} truncated, ` +
        `${verdicts.filter((v) => v.problems.length > 0).length} malformed, ${strays.length} unparsable`,
    });

    expect(result.code).toBe(0);
    expect(result.report).toMatchObject({ status: 'ok', exported: events.length });
    expect(strays.map((m) => m.raw.slice(0, 200))).toEqual([]);
    expect(received).toHaveLength(events.length);
    expect(verdicts.filter((v) => v.problems.length > 0)).toEqual([]);
  }, 120_000);
});
