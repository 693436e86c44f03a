/**
 * PII_FIELDS, OMIT_FIELDS and MESSAGE_FORMAT end to end: 10,000 realistic
 * events (hostile and oversized ones included) drained by the CLI from the
 * simulated tenant, and the same events posted by a simulated Auth0 log
 * stream to `serve`, each into its own rsyslogd receiver.
 *
 * Expected values come from the dataset and from the README's recipe, not
 * from the code under test: the covered properties are the README's table
 * (literal here), pseudonyms are computed with node:crypto, and the filter's
 * selection uses the levels of Auth0's type table written out below.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { type TenantEvent } from '../support/events';
import { streamEvents } from '../support/log-stream-sender';
import type { ReceivedMessage } from '../support/rsyslog-receiver';
import { useHarness } from '../faults/support/harness';
import { eventsOf } from '../faults/support/received';

const h = useHarness();
const COUNT = 10_000;
const MIX = { hostileEvery: 50, hugeEvery: 2_500 };
const HASH_KEY = 'pii-Kestrel9Distinctive-HashKey-v4n8';
const STREAM_TOKEN = 'pii-stream-token-0123456789abcdef';
const ADMIN_TOKEN = 'pii-admin-token-0123456789abcdef';

/** README, "PII_FIELDS: which properties each name covers" (email, username, ip). */
const COVERED: Readonly<Record<string, 'email' | 'username' | 'ip'>> = {
  email: 'email', email_address: 'email', emailAddress: 'email', new_email: 'email',
  user_name: 'username', username: 'username', userName: 'username', nickname: 'username',
  ip: 'ip', client_ip: 'ip', ip_address: 'ip', ipAddress: 'ip',
};
/** README's recipe: the first 16 hex digits of HMAC-SHA-256 keyed with PII_HASH_KEY over the value's UTF-8 bytes. */
const pseudonym = (value: string): string => createHmac('sha256', Buffer.from(HASH_KEY, 'utf8')).update(Buffer.from(value, 'utf8')).digest('hex').slice(0, 16);

/** Every string leaf of a value, with the key holding it. */
function leaves(value: unknown, key: string, out: Array<[string, string]>): Array<[string, string]> {
  if (typeof value === 'string') out.push([key, value]);
  else if (Array.isArray(value)) for (const v of value) leaves(v, key, out);
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) leaves(v, k, out);
  return out;
}

/** The raw values of the covered properties in the dataset. */
function rawValuesOf(events: readonly TenantEvent[]): Set<string> {
  const raw = new Set<string>();
  for (const event of events) for (const [key, value] of leaves(event, '', [])) if (COVERED[key] !== undefined && value !== '') raw.add(value);
  return raw;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const IPV4 = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])/g;
const IPV6 = /2001:db8::[0-9a-f]+/g;

/** MSG's JSON: after the summary line when there is one (it never holds a "{"). */
function eventOf(message: ReceivedMessage): Record<string, unknown> {
  return JSON.parse(message.msg.slice(message.msg.indexOf('{'))) as Record<string, unknown>;
}

function byId(messages: readonly ReceivedMessage[]): Map<string, ReceivedMessage> {
  const map = new Map<string, ReceivedMessage>();
  for (const m of messages) {
    const id = eventOf(m)['log_id'] as string;
    expect(map.has(id)).toBe(false);
    map.set(id, m);
  }
  return map;
}

/** Raw emails and IP addresses of the dataset found anywhere in the receiver's output, and covered leaves still raw. */
function leaksIn(messages: readonly ReceivedMessage[], raw: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const m of messages) {
    const text = m.raw;
    for (const pattern of [EMAIL, IPV4, IPV6]) for (const match of text.matchAll(pattern)) if (raw.has(match[0])) found.push(match[0]);
    for (const [key, value] of leaves(eventOf(m), '', [])) if (COVERED[key] !== undefined && raw.has(value)) found.push(`${key}=${value.slice(0, 40)}`);
  }
  return found;
}

async function drainBothPaths(settings: Record<string, string>) {
  const tenant = await h.tenant({ count: COUNT, ...MIX });
  const events = eventsOf(tenant);
  const polled = await h.receiver();
  const env = h.env(tenant, polled, settings);
  const run = await h.run(env);
  expect(run.code).toBe(0);

  const streamed = await h.receiver();
  const quiet = await h.tenant({ count: 0 });
  const service = await h.serve(h.env(quiet, streamed, { ...settings, LOG_STREAM_TOKEN: STREAM_TOKEN, LOG_STREAM_ONLY: 'true', ADMIN_TOKEN }));
  await streamEvents(events, { url: `${service.url}/log-stream`, authorization: `Bearer ${STREAM_TOKEN}`, seed: 21 });
  const health = await service.call('GET', '/health');
  const metrics = await service.call('GET', '/metrics', { token: ADMIN_TOKEN });
  const runs = await service.call('GET', '/runs', { token: ADMIN_TOKEN });
  const stopped = await service.stop();
  expect(stopped.code).toBe(0);
  const outputs = [run.stdout, run.stderr, readFileSync(env.STORAGE_FILE, 'latin1'), stopped.stdout, stopped.stderr, service.stderr(), health.text, metrics.text, runs.text];
  return { events, polled: await polled.messages(), streamed: await streamed.messages(), report: run.report, outputs, settingsShown: runs.json?.['settings'] };
}

/**
 * Same ids, and for each the same MSGID, severity, summary line and event: the same fields with the same values,
 * log_id first (README, Real time: the stream's line is formatted as the poller's). Past log_id and _id the fields
 * keep the order Auth0 sent them in, which Auth0 does not document as equal on both paths, so they are compared as a set.
 */
function expectSameBodies(polled: readonly ReceivedMessage[], streamed: readonly ReceivedMessage[]): void {
  const a = byId(polled);
  const b = byId(streamed);
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  const summaryOf = (m: ReceivedMessage): string => m.msg.slice(0, m.msg.indexOf('{'));
  const leadingOf = (m: ReceivedMessage): string[] => Object.keys(eventOf(m)).slice(0, 2).filter((k) => k === 'log_id' || k === '_id');
  // A truncated event lists the fields it dropped in the order the event had them: the same names on both paths.
  const fieldsOf = (m: ReceivedMessage): Record<string, unknown> => {
    const event = eventOf(m);
    const truncated = event['_truncated'] as { dropped_fields?: string[] } | undefined;
    if (Array.isArray(truncated?.dropped_fields)) truncated.dropped_fields = [...truncated.dropped_fields].sort();
    return event;
  };
  const different = [...a].filter(([id, m]) => {
    const other = b.get(id) as ReceivedMessage;
    return other.msgid !== m.msgid || other.severity !== m.severity || summaryOf(other) !== summaryOf(m)
      || leadingOf(other).join() !== leadingOf(m).join() || leadingOf(other)[0] !== 'log_id' || !isDeepStrictEqual(fieldsOf(other), fieldsOf(m));
  });
  expect(different.map(([id]) => id)).toEqual([]);
}

describe('personal data settings', () => {
  it('lists a bad PII_FIELDS name and a missing PII_HASH_KEY with the other bad settings, each with its fix, before anything is fetched', async () => {
    const tenant = await h.tenant({ count: 10 });
    const receiver = await h.receiver();
    const run = await h.run(h.env(tenant, receiver, { PII_FIELDS: 'email,phone_no', PII_METHOD: 'hash', OMIT_FIELDS: 'date', BATCH_SIZE: '500' }));
    expect(run.code).toBe(2);
    expect(run.report).toMatchObject({ status: 'failed', error: { code: 'CONFIG_INVALID' } });
    for (const text of ['BATCH_SIZE', 'OMIT_FIELDS: "date"', 'PII_FIELDS: "phone_no" is not a field name', 'PII_HASH_KEY: is not set, and PII_METHOD=hash needs it']) expect(run.stderr).toContain(text);
    expect(run.stderr.match(/To fix:/g)).toHaveLength(4);
    expect(tenant.stats()).toMatchObject({ tokenRequests: 0, logsRequests: 0 });
    expect(await receiver.messages()).toEqual([]);
  });
});

describe('personal data on both export paths', () => {
  it('PII_METHOD=hash: no raw email, user name or IP address reaches the receiver, each value has its keyed pseudonym, and the log stream sends the same fields and values', async () => {
    const { events, polled, streamed, report, outputs, settingsShown } = await drainBothPaths({ PII_FIELDS: 'email,username,ip', PII_METHOD: 'hash', PII_HASH_KEY: HASH_KEY });
    // What an administrator's /runs (and so the dashboard) says leaves the tenant: the fields and the method, not the key.
    expect(settingsShown).toEqual({ messageFormat: 'json', omitFields: [], personalData: { fields: ['email', 'username', 'ip'], method: 'hash' } });
    expect(report).toMatchObject({ status: 'ok', exported: COUNT, truncated: 4 });
    expect(polled).toHaveLength(COUNT);

    const raw = rawValuesOf(events);
    // The premise: the dataset is full of personal data.
    expect(raw.size).toBeGreaterThan(5_000);
    expect(leaksIn(polled, raw)).toEqual([]);

    // Every covered value became the pseudonym the README's recipe gives; one value, one pseudonym, and back.
    const received = byId(polled);
    const rawOf = new Map<string, string>();
    let checked = 0;
    for (const event of events) {
      const out = eventOf(received.get(event.log_id) as ReceivedMessage);
      const pairs: Array<[unknown, unknown]> = [[event.user_name, out['user_name']]];
      if (out['_truncated'] === undefined) {
        pairs.push([event.ip, out['ip']]);
        const request = (event.details as { request?: { ip?: string; auth?: { user?: { email?: string } } } } | undefined)?.request;
        const outRequest = (out['details'] as { request?: { ip?: string; auth?: { user?: { email?: string } } } } | undefined)?.request;
        if (request !== undefined) pairs.push([request.ip, outRequest?.ip], [request.auth?.user?.email, outRequest?.auth?.user?.email]);
      }
      for (const [before, after] of pairs) {
        if (typeof before !== 'string' || before === '') continue;
        expect(after).toBe(pseudonym(before));
        const seen = rawOf.get(after as string);
        expect(seen === undefined || seen === before).toBe(true);
        rawOf.set(after as string, before);
        checked++;
      }
      // The identity, type and date are never changed.
      expect([out['log_id'], out['type'], out['date']]).toEqual([event.log_id, event.type, event.date]);
    }
    expect(checked).toBeGreaterThan(15_000);
    expect(new Set(rawOf.values()).size).toBe(rawOf.size);

    expectSameBodies(polled, streamed);
    for (const text of outputs) expect(text).not.toContain('Kestrel9Distinctive');
  }, 600_000);

  it('PII_METHOD=mask with OMIT_FIELDS, MESSAGE_FORMAT=summary, LOG_LEVEL and LOG_TYPES: nothing raw, nothing omitted, frames within 100,000 bytes, filters on the original types, and the same fields and values on the log stream', async () => {
    const omitted = ['details.request.auth', 'details.prompts', 'location_info', '_id'];
    const { events, polled, streamed, report } = await drainBothPaths({
      PII_FIELDS: 'email,username,ip', PII_METHOD: 'mask', OMIT_FIELDS: omitted.join(','), MESSAGE_FORMAT: 'summary', LOG_LEVEL: '3', LOG_TYPES: 's',
    });
    // Auth0's levels of the dataset's types (README, "Filtering"): f, fp, fu 3; limit_wc 4; unknown types pass every level; s is listed.
    const selected = new Set(['s', 'f', 'fp', 'fu', 'limit_wc', 'zz_new_type', 'zz_preview_feature_event']);
    const expected = events.filter((e) => selected.has(e.type as string));
    expect(report).toMatchObject({ status: 'ok', fetched: COUNT, exported: expected.length, filteredOut: COUNT - expected.length });
    const received = byId(polled);
    expect([...received.keys()].sort()).toEqual(expected.map((e) => e.log_id).sort());

    expect(leaksIn(polled, rawValuesOf(events))).toEqual([]);
    let largest = 0;
    for (const event of expected) {
      const message = received.get(event.log_id) as ReceivedMessage;
      largest = Math.max(largest, Buffer.byteLength(message.raw) + 1);
      const out = eventOf(message);
      expect([out['log_id'], out['type'], out['date']]).toEqual([event.log_id, event.type, event.date]);
      // Severity from the original type: err for f/fp/fu, crit for limit_wc, info for s, notice for unknown.
      expect(message.severity).toBe({ s: 6, f: 3, fp: 3, fu: 3, limit_wc: 2 }[event.type as string] ?? 5);
      expect(out['_id']).toBeUndefined();
      expect(out['location_info']).toBeUndefined();
      const details = out['details'] as { prompts?: unknown; request?: { auth?: unknown } } | undefined;
      expect(details?.prompts).toBeUndefined();
      expect(details?.request?.auth).toBeUndefined();
      if (typeof event.user_name === 'string' && event.user_name.includes('@') && !event.user_name.includes('**')) {
        // README: the first character, the first of the domain, the top-level domain.
        const [local, domain] = event.user_name.split('@') as [string, string];
        expect(out['user_name']).toBe(`${local[0]}***@${domain[0]}***${domain.slice(domain.lastIndexOf('.'))}`);
        expect(message.msg).toContain(` | user ${out['user_name'] as string} | `);
      }
    }
    expect(largest).toBeLessThanOrEqual(100_000);
    expect(polled.filter((m) => eventOf(m)['_truncated'] !== undefined).length).toBe(expected.filter((e) => typeof (e.details as { blob?: unknown } | undefined)?.blob === 'string').length);
    expectSameBodies(polled, streamed);
  }, 600_000);
});
