import fc from 'fast-check';
import { formatLog, toSafeJson } from '../../src/stages/format-log';
import logTypeCodes from '../fixtures/auth0-log-type-codes.json';

/** README: "Papertrail accepts at most 100,000 bytes per message over TCP, header and token element included". */
const MAX_FRAME_BYTES = 100_000;
/** README: a cut-down event keeps its identifying fields, "each cut to 1,024 characters". */
const KEPT_FIELD_CHARS = 1_024;
import type { Auth0Log } from '../../src/auth0/auth0-log';

const options = { system: 'auth0-logs', program: 'auth0' };
/** The longest token config accepts, of every character an SD-NAME allows but '@'. */
const LONGEST_TOKEN = Array.from({ length: 256 }, (_, i) => String.fromCharCode(0x21 + (i % 94))).join('').replace(/[=\]"@]/g, 'x');
const withToken = { ...options, token: LONGEST_TOKEN };
/** SD is the NILVALUE or exactly one SD element with no params (all this product sends). */
const HEADER = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) - (\S+) (-|\[[\x21-\x7e]+?\]) (.*)$/s;

function parse(line: string) {
  const m = HEADER.exec(line);
  if (!m) throw new Error(`not RFC 5424: ${line.slice(0, 80)}`);
  return { pri: Number(m[1]), timestamp: m[2], hostname: m[3], appname: m[4], msgid: m[5], sd: m[6], msg: m[7] as string };
}

/** Characters that could end or corrupt a line-framed syslog message. */
const FRAME_BREAKERS = /[\r\n\0\u0085\u2028\u2029]/;
function hasLoneSurrogate(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

describe('formatLog', () => {
  it('writes an RFC 5424 header from the event: severity from level, the event date, system, program and type', () => {
    const line = formatLog({ log_id: '900', date: '2026-11-23T10:00:00.5Z', type: 'f', description: 'Wrong password' }, options).line;
    const parsed = parse(line);
    expect(parsed.pri).toBe(16 * 8 + 3); // local0.err for a level-3 type
    expect(parsed.timestamp).toBe('2026-11-23T10:00:00.500Z');
    expect(parsed.hostname).toBe('auth0-logs');
    expect(parsed.appname).toBe('auth0');
    expect(parsed.msgid).toBe('f');
    expect(JSON.parse(parsed.msg)).toEqual({ log_id: '900', date: '2026-11-23T10:00:00.5Z', type: 'f', description: 'Wrong password' });
  });

  it.each([
    ['limit_wc', 2], ['f', 3], ['w', 4], ['s', 6], ['an_unknown_type', 5],
  ])('maps type %s to severity %d', (type, severity) => {
    expect(parse(formatLog({ log_id: '1', type }, options).line).pri % 8).toBe(severity);
  });

  it('uses NILVALUEs for a missing or impossible date and type, and for STRUCTURED-DATA without a token', () => {
    const parsed = parse(formatLog({ log_id: '1', date: 'yesterday', type: 'has space' }, options).line);
    expect(parsed.timestamp).toBe('-');
    expect(parsed.msgid).toBe('-');
    expect(parsed.sd).toBe('-');
    expect(parse(formatLog({ log_id: '1' }, options).line).msgid).toBe('-');
  });

  it('carries the token as the SD-ID of an empty element under enterprise number 41058, whole even beyond 32 characters', () => {
    const token = '012345-ABCDEFGHIJ_klmnopqrst';
    const line = formatLog({ log_id: '1', date: '2026-11-23T10:00:00.000Z', type: 's' }, { ...options, token }).line;
    expect(line).toBe(`<134>1 2026-11-23T10:00:00.000Z auth0-logs auth0 - s [${token}@41058] {"log_id":"1","date":"2026-11-23T10:00:00.000Z","type":"s"}`);
    expect(parse(formatLog({ log_id: '1' }, withToken).line).sd).toBe(`[${LONGEST_TOKEN}@41058]`);
  });

  it('sends a type longer than 32 characters as its first 32 (MSGID\'s maximum); the full type is in MSG', () => {
    const parsed = parse(formatLog({ log_id: '1', type: 'oidc_backchannel_logout_succeeded' }, options).line);
    expect(parsed.msgid).toBe('oidc_backchannel_logout_succeede');
    expect(JSON.parse(parsed.msg).type).toBe('oidc_backchannel_logout_succeeded');
  });

  it('gives every known type a MSGID of its own but the one pair the README names, which differs in severity', () => {
    const byMsgId = new Map<string, string[]>();
    // RFC 5424's MSGID is at most 32 characters: each documented code's first 32, from the fixture's table.
    for (const code of [...logTypeCodes.table2a, ...logTypeCodes.table2b].map((e) => e.code)) byMsgId.set(code.slice(0, 32), [...(byMsgId.get(code.slice(0, 32)) ?? []), code]);
    const shared = [...byMsgId.values()].filter((codes) => codes.length > 1);
    expect(shared).toEqual([['my_account_authentication_method_failed', 'my_account_authentication_method_succeeded']]);
    const [failed, succeeded] = shared[0] as [string, string];
    expect(parse(formatLog({ log_id: '1', type: failed }, options).line).pri).not.toBe(parse(formatLog({ log_id: '1', type: succeeded }, options).line).pri);
  });

  it('converts a date with an offset to UTC', () => {
    expect(parse(formatLog({ log_id: '1', date: '2026-11-23T12:00:00.123+02:00' }, options).line).timestamp).toBe('2026-11-23T10:00:00.123Z');
  });

  it('cuts an oversized event down to its identifying fields, marked as truncated', () => {
    const big = { log_id: '900123', date: '2026-11-23T10:00:00.000Z', type: 's', description: 'ok', user_id: 'auth0|1', client_id: 'abc', details: { blob: 'x'.repeat(200_000) } };
    const formatted = formatLog(big, options);
    expect(formatted.truncated).toBe(true);
    expect(Buffer.byteLength(formatted.line) + 1).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    const msg = JSON.parse(parse(formatted.line).msg);
    expect(msg).toMatchObject({ log_id: '900123', date: big.date, type: 's', description: 'ok', user_id: 'auth0|1', client_id: 'abc' });
    expect(msg._truncated).toMatchObject({ dropped_fields: ['details'] });
    expect(msg._truncated.original_bytes).toBeGreaterThan(200_000);
  });

  // How deep JSON.stringify and String() can recurse depends on the engine (V8 14, Node 26, no longer
  // throws at 20,000 levels), so these tests fix the behaviour, not the engine's limit: a hostile event
  // always ships as one valid frame with its identifying fields, whichever branch cuts it down.
  const CUT_DOWN_REASONS = ['event nested too deeply to serialize', 'event larger than Papertrail accepts'];
  /** Serializing or printing this throws the engine's stack overflow error, on every engine. */
  const overflowing = (array: boolean) =>
    Object.assign(array ? [] : {}, {
      toJSON() {
        throw new RangeError('Maximum call stack size exceeded');
      },
      toString() {
        throw new RangeError('Maximum call stack size exceeded');
      },
    });

  it('ships a 20,000-level deep event as one frame of its identifying fields, instead of failing the page', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 20_000; i++) {
      const next: Record<string, unknown> = {};
      deep['d'] = next;
      deep = next;
    }
    const formatted = formatLog({ log_id: '900', type: 'f', date: '2026-11-23T10:00:00.000Z', details: root }, options);
    expect(formatted.truncated).toBe(true);
    expect(Buffer.byteLength(formatted.line) + 1).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    const msg = JSON.parse(parse(formatted.line).msg);
    expect(msg).toMatchObject({ log_id: '900', type: 'f', _truncated: { dropped_fields: ['details'] } });
    expect(CUT_DOWN_REASONS).toContain(msg._truncated.reason);
  });

  it('ships an event it cannot serialize at all as its identifying fields, saying why', () => {
    const formatted = formatLog({ log_id: '902', type: 'f', date: '2026-11-23T10:00:00.000Z', details: overflowing(false) } as unknown as Auth0Log, options);
    expect(formatted.truncated).toBe(true);
    expect(JSON.parse(parse(formatted.line).msg)).toMatchObject({ log_id: '902', type: 'f', _truncated: { reason: 'event nested too deeply to serialize', dropped_fields: ['details'] } });
  });

  it('ships an event whose identifying fields are 20,000-level deep arrays as one valid frame', () => {
    let nested: unknown[] = [];
    for (let i = 0; i < 20_000; i++) nested = [nested];
    const formatted = formatLog({ log_id: '901', type: nested, date: '2026-11-23T10:00:00.000Z', description: nested, user_name: nested, details: { a: 1 } } as unknown as Auth0Log, options);
    expect(formatted.truncated).toBe(true);
    expect(Buffer.byteLength(formatted.line) + 1).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(parse(formatted.line).msgid).toBe('-');
    const msg = JSON.parse(parse(formatted.line).msg);
    expect(msg).toMatchObject({ log_id: '901' });
    expect(CUT_DOWN_REASONS).toContain(msg._truncated.reason);
    for (const field of ['description', 'user_name']) {
      expect(typeof msg[field]).toBe('string');
      expect(msg[field].length).toBeLessThanOrEqual(1024);
    }
  });

  it('names identifying fields too deeply nested to print instead of printing them', () => {
    // String() of nested arrays recurses, so printing the kept fields could overflow the stack too.
    const unprintable = overflowing(true);
    const formatted = formatLog({ log_id: '903', type: unprintable, description: unprintable, user_name: overflowing(false), details: overflowing(false) } as unknown as Auth0Log, options);
    expect(formatted.truncated).toBe(true);
    expect(parse(formatted.line).msgid).toBe('-');
    expect(JSON.parse(parse(formatted.line).msg)).toMatchObject({
      log_id: '903',
      description: '[array nested too deeply to print]',
      user_name: '[object nested too deeply to print]',
      _truncated: { reason: 'event nested too deeply to serialize' },
    });
  });

  it('cuts each identifying field of an oversized event to 1,024 characters, no more and no fewer', () => {
    const long = (c: string): string => c.repeat(5_000);
    const big = { log_id: '900123', type: 's', description: long('d'), user_id: long('u'), user_name: long('n'), client_id: long('c'), client_name: long('m'), details: { blob: 'x'.repeat(200_000) } };
    const msg = JSON.parse(parse(formatLog(big, options).line).msg) as Record<string, string>;
    for (const key of ['description', 'user_id', 'user_name', 'client_id', 'client_name']) expect(msg[key]).toBe(big[key as keyof typeof big].toString().slice(0, KEPT_FIELD_CHARS));
  });

  it('truncates the same event the same way every time', () => {
    const big = { log_id: '1', type: 'f', description: '\u2028'.repeat(60_000) };
    expect(formatLog(big, options).line).toBe(formatLog(structuredClone(big), options).line);
  });

  it.each([['without', options], ['with', withToken]])('does not truncate an event that fits exactly, %s a token (the SD element counts)', (_, opts) => {
    const head = formatLog({ log_id: '1', type: 's', pad: '' }, opts).line.length;
    const fill = MAX_FRAME_BYTES - 1 - head;
    const formatted = formatLog({ log_id: '1', type: 's', pad: 'a'.repeat(fill) }, opts);
    expect(formatted.truncated).toBe(false);
    expect(Buffer.byteLength(formatted.line) + 1).toBe(MAX_FRAME_BYTES);
    expect(formatLog({ log_id: '1', type: 's', pad: 'a'.repeat(fill + 1) }, opts).truncated).toBe(true);
  });

  describe.each([['no token', options], ['the longest token', withToken]])('for any event (property-based), %s', (_, options) => {
    const hostileChar = fc.constantFrom('\r', '\n', '\r\n', '\0', '\u0085', '\u2028', '\u2029', '\uD800', '\uDFFF', '\u001b', '"', '\\', '<134>1 ', '😀', 'é');
    const hostileString = fc.array(fc.oneof(fc.string({ unit: 'binary' }), hostileChar), { maxLength: 20 }).map((parts) => parts.join(''));
    const event = fc.record({
      log_id: fc.string({ minLength: 1, maxLength: 60 }),
      date: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), hostileString),
      type: fc.oneof(fc.constantFrom('s', 'f', 'limit_wc', 'w', 'pla'), hostileString),
      description: hostileString,
      details: fc.jsonValue({ maxDepth: 6 }),
      user_name: hostileString,
    });

    it('produces exactly one line, no frame-breaking byte, valid UTF-8, and parseable JSON equal to the event', () => {
      fc.assert(
        fc.property(event, (e) => {
          const { line, truncated } = formatLog(e, options);
          expect(FRAME_BREAKERS.test(line)).toBe(false);
          expect(hasLoneSurrogate(line)).toBe(false);
          const bytes = Buffer.from(line, 'utf8');
          expect(bytes.toString('utf8')).toBe(line); // round-trips: valid UTF-8
          expect(bytes.length + 1).toBeLessThanOrEqual(MAX_FRAME_BYTES);
          const parsed = JSON.parse(parse(line).msg);
          if (!truncated) expect(parsed).toEqual(JSON.parse(JSON.stringify(e)));
        }),
        { numRuns: 500 },
      );
    });

    it('keeps huge hostile events within the limit', () => {
      fc.assert(
        fc.property(hostileString, fc.integer({ min: 100_000, max: 400_000 }), (s, n) => {
          const e = { log_id: '900', type: 'f', description: s.repeat(Math.ceil(n / Math.max(1, s.length))).slice(0, n), user_id: s };
          const { line } = formatLog(e, options);
          expect(Buffer.byteLength(line) + 1).toBeLessThanOrEqual(MAX_FRAME_BYTES);
          expect(FRAME_BREAKERS.test(line)).toBe(false);
          expect(() => JSON.parse(parse(line).msg)).not.toThrow();
        }),
        { numRuns: 40 },
      );
    });
  });

  it('escapes the JavaScript line separators JSON.stringify leaves raw', () => {
    expect(toSafeJson('a\u2028b\u2029c\u0085')).toBe('"a\\u2028b\\u2029c\\u0085"');
    expect(JSON.parse(toSafeJson('a\u2028b'))).toBe('a\u2028b');
  });
});
