/**
 * POST /log-stream in a real `serve` process, with bad input of every kind:
 * each gets its documented status and message, nothing of a refused request
 * reaches the receiver, a record without a log_id is shipped marked, and no
 * answer or log line carries a secret.
 */
import { request } from 'node:http';
import { checkDelivery } from '../support/delivery';
import { startCountingProxy } from '../support/counting-proxy';
import { generateEvents } from '../support/events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toStreamRecord } from '../support/log-stream-sender';
import { dayAgo, sleep, useHarness, type Service } from '../faults/support/harness';
import { logIdOf } from '../faults/support/received';
import type { RsyslogReceiver } from '../support/rsyslog-receiver';
import type { FakeTenant } from '../support/fake-tenant';

const TOKEN = 'log-stream-secret-token-0123456789';
/** The service ships to a Papertrail token destination: stream deliveries carry the token element like the poller's pages. */
const PAPERTRAIL_TOKEN = '385612-LOGSTREAMTOKEN_qwertyuiopasd';
const h = useHarness();

interface Answer {
  status: number;
  text: string;
  headers: Headers;
  ms: number;
}

async function post(service: Service, body: string | Buffer, authorization?: string): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${service.url}/log-stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    body,
  });
  return { status: res.status, text: await res.text(), headers: res.headers, ms: Date.now() - started };
}

describe('POST /log-stream', () => {
  let tenant: FakeTenant;
  let receiver: RsyslogReceiver;
  let service: Service;
  const start = dayAgo();
  const events = generateEvents(10, { start });
  const answers: Answer[] = [];
  /** `authorization` null: no Authorization header at all. */
  const send = async (body: string | Buffer, authorization: string | null = `Bearer ${TOKEN}`): Promise<Answer> => {
    const answer = await post(service, body, authorization ?? undefined);
    answers.push(answer);
    return answer;
  };
  const receivedIds = async (): Promise<(string | undefined)[]> => (await receiver.messages()).map((m) => logIdOf(m));

  beforeEach(async () => {
    answers.length = 0;
    tenant = await h.tenant({ count: 0, start });
    receiver = await h.receiver();
    service = await h.serve(h.env(tenant, receiver, { LOG_STREAM_TOKEN: TOKEN, LOG_STREAM_ONLY: 'true', PAPERTRAIL_TOKEN }));
  });

  it('refuses a missing or wrong token with 401 and no detail, and slows down an address that keeps failing', async () => {
    const body = JSON.stringify([toStreamRecord(events[0]!)]);
    for (const auth of [null, '', 'Bearer wrong-token-wrong-token', TOKEN.slice(0, -1), `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const answer = await send(body, auth);
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text)).toEqual({ status: 'unauthorized' });
    }
    // Six failures so far from this address: the next wrong one waits (250 ms doubling after the third).
    const slowed = await send(body, 'Bearer still-wrong-still-wrong');
    expect(slowed.status).toBe(401);
    expect(slowed.ms).toBeGreaterThanOrEqual(1_500);
    // The right token is never slowed down, whatever the address did before.
    const right = await send(body, `Bearer ${TOKEN}`);
    expect(right.status).toBe(200);
    expect(right.ms).toBeLessThan(1_500);
    expect(await receivedIds()).toEqual([events[0]!.log_id]);
  }, 60_000);

  it('ships records in the shape Auth0 documents for a stream, as the README says the poller would send them', async () => {
    // Written by hand in the shape of Auth0's stream records (`{"log_id", "data"}`, the tenant-logs schema's
    // is_mobile, tenant_name, environment_name and $event_schema), not built from the exporter's own code.
    const body = readFileSync(join(__dirname, '..', 'fixtures', 'auth0-log-stream-records.ndjson'), 'utf8');
    expect((await send(body)).status).toBe(200);
    await receiver.waitForCount(2, 10_000);
    const messages = await receiver.messages();
    // README: the stream's own fields are left out, is_mobile becomes isMobile, log_id and _id come first.
    const expectedKeys = ['log_id', '_id', 'date', 'type', 'description', 'connection', 'connection_id', 'client_id', 'client_name', 'ip', 'user_agent', 'details', 'hostname', 'user_id', 'user_name', 'strategy', 'strategy_type', 'isMobile'];
    const first = JSON.parse(messages[0]!.msg) as Record<string, unknown>;
    const second = JSON.parse(messages[1]!.msg) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(expectedKeys);
    expect(first).toMatchObject({ log_id: '90020261130101503123456789012345678901234567890123456701', _id: '90020261130101503123456789012345678901234567890123456701', type: 's', isMobile: false, details: { stats: { loginsCount: 12 } } });
    expect(second).toMatchObject({ log_id: '90020261130101507987654321098765432109876543210987654302', type: 'fp', isMobile: true, description: 'Wrong email or password.' });
    // RFC 5424 header from the README's table: the event's date, the type as MSGID, fp at error (3), s at info (6).
    expect(messages.map((m) => [m.timestamp, m.msgid, m.severity])).toEqual([['2026-11-30T10:15:01.204Z', 's', 6], ['2026-11-30T10:15:05.877Z', 'fp', 3]]);
  });

  it('accepts the token bare or as "Bearer <token>", as entered in the stream settings', async () => {
    expect((await send(JSON.stringify(toStreamRecord(events[0]!)), TOKEN)).status).toBe(200);
    expect((await send(JSON.stringify(toStreamRecord(events[1]!)), `bearer ${TOKEN}`)).status).toBe(200);
    expect(await receivedIds()).toEqual([events[0]!.log_id, events[1]!.log_id]);
    // The same frames as the poller would send: header, token element and the API-shaped event.
    expect(checkDelivery(events.slice(0, 2), await receiver.messages(), { token: PAPERTRAIL_TOKEN })).toMatchObject({ delivered: 2, malformed: 0, problems: [] });
  });

  it('answers each malformed body 400 with a message saying what is wrong, and ships nothing of it', async () => {
    const good = JSON.stringify(toStreamRecord(events[0]!));
    const cases: [string, RegExp][] = [
      ['', /body is empty/],
      ['not json at all', /not JSON: expected a JSON array, JSON lines or a JSON object/],
      [`${good}\n{"log_id": "1", "data": `, /Line 2 is not JSON/],
      [`[${good}, 42]`, /Element 2 of the array is not a JSON object/],
      [`${good}\n[1]`, /Line 2 is not a JSON object/],
      ['"a string"', /neither an array nor an object/],
      ['{"log_id": "1", "data": {"type": "s"}', /not JSON/],
    ];
    for (const [body, message] of cases) {
      const answer = await send(body);
      expect(answer.status).toBe(400);
      const parsed = JSON.parse(answer.text) as { status: string; error: { code: string; message: string } };
      expect(parsed.status).toBe('failed');
      expect(parsed.error.code).toBe('STREAM_BAD_BODY');
      expect(parsed.error.message).toMatch(message);
    }
    expect(await receivedIds()).toEqual([]);
  });

  it('answers a body one byte over 10 MB 413 and ships nothing of it, and takes a body of exactly 10 MB', async () => {
    // README: bodies up to 10 MB (10,485,760 bytes). Three records, padded with JSON whitespace to the byte.
    const LIMIT = 10 * 1024 * 1024;
    const records = JSON.stringify(events.slice(0, 3).map(toStreamRecord));
    const padded = (bytes: number): string => `${records.slice(0, -1)}${' '.repeat(bytes - Buffer.byteLength(records))}]`;
    const over = await send(padded(LIMIT + 1));
    expect(over.status).toBe(413);
    expect(JSON.parse(over.text)).toMatchObject({ status: 'failed', error: { code: 'STREAM_BODY_TOO_LARGE', message: expect.stringMatching(/larger than 10485760 bytes \(10 MB\)/) } });
    expect(await receivedIds()).toEqual([]);
    const atLimit = padded(LIMIT);
    expect(Buffer.byteLength(atLimit)).toBe(LIMIT);
    const ok = await send(atLimit);
    expect(ok.status).toBe(200);
    expect(await receivedIds()).toEqual(events.slice(0, 3).map((e) => e.log_id));
  }, 60_000);

  it('ships a record without any log_id, marked, and counts it', async () => {
    const { log_id: _id, ...data } = toStreamRecord(events[0]!).data;
    const body = JSON.stringify([{ data }, toStreamRecord(events[1]!)]);
    const answer = await send(body);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ status: 'ok', records: 2, shipped: 2, withoutLogId: 1 });
    const messages = await receiver.messages();
    expect(messages).toHaveLength(2);
    const marked = JSON.parse(messages[1]!.msg) as Record<string, unknown>;
    expect(marked['_missing_log_id']).toBe(true);
    expect(marked['type']).toBe(events[0]!.type);
    const health = (await service.call('GET', '/health')).json as { logStream: Record<string, unknown> };
    expect(health.logStream).toMatchObject({ mode: 'stream-only', requests: 1, records: 2, shipped: 2, withoutLogId: 1 });
  });

  it('ships a record whose fields are arrays nested thousands deep, cut down, and answers 200 rather than a 503 Auth0 would retry for ever', async () => {
    const nested = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
    const record = toStreamRecord(events[2]!);
    const body = `[{"log_id":${JSON.stringify(record.log_id)},"data":{"log_id":${JSON.stringify(record.log_id)},"date":${JSON.stringify(record.data['date'])},"type":${nested},"description":${nested},"user_name":${nested}}}]`;
    const answer = await send(body);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ status: 'ok', records: 1, shipped: 1 });
    const messages = await receiver.messages();
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0]!.msg)).toMatchObject({ log_id: record.log_id, description: '[array nested too deeply to print]', _truncated: { reason: 'event nested too deeply to serialize' } });
  });

  it('answers 503 with Retry-After while Papertrail is down, records nothing as shipped, and ships the redelivery once it is back', async () => {
    const body = JSON.stringify(events.slice(0, 5).map(toStreamRecord));
    await receiver.stop();
    const refused = await send(body);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(JSON.parse(refused.text)).toMatchObject({ status: 'failed', error: { code: 'SINK_UNREACHABLE', message: expect.stringMatching(/Papertrail did not confirm delivery\. Nothing in this request counts as shipped/) } });
    await receiver.restart();
    const again = await send(body);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.text)).toMatchObject({ shipped: 5, alreadyShipped: 0 });
    expect(await receivedIds()).toEqual(events.slice(0, 5).map((e) => e.log_id));
    const health = (await service.call('GET', '/health')).json as { logStream: Record<string, unknown> };
    expect(health.logStream).toMatchObject({ requests: 2, delivered: 1, failed: 1 });
  }, 60_000);

  afterEach(() => {
    // No answer and no line the service logged carries a secret.
    const secrets = [TOKEN, tenant.clientSecret, PAPERTRAIL_TOKEN];
    for (const answer of answers) for (const secret of secrets) expect(answer.text).not.toContain(secret);
    for (const secret of secrets) expect(service.stderr()).not.toContain(secret);
  });
});

describe('follow mode with LOG_STREAM_ONLY', () => {
  it('starts no poller: the stream ships, and the tenant is never asked for logs', async () => {
    const start = dayAgo();
    // The tenant has logs a poller would fetch; the stream sends others.
    const tenant = await h.tenant({ count: 5, start });
    const receiver = await h.receiver();
    const service = await h.serve(h.env(tenant, receiver, { LOG_STREAM_TOKEN: TOKEN, LOG_STREAM_ONLY: 'true', SCHEDULE: 'continuous', POLL_INTERVAL_SECONDS: '1' }));
    const streamed = generateEvents(3, { start: new Date(start.getTime() + 3_600_000) });
    const answer = await post(service, JSON.stringify(streamed.map(toStreamRecord)), `Bearer ${TOKEN}`);
    expect(answer.status).toBe(200);
    // Several poll intervals: a follow loop would have polled at once and again every second.
    await sleep(3_000);
    expect(tenant.stats().logsRequests).toBe(0);
    expect((await receiver.messages()).map((m) => logIdOf(m))).toEqual(streamed.map((e) => e.log_id));
  }, 60_000);
});

describe('group commit: deliveries that arrive while a shipment is in flight', () => {
  /** Posts `body`; `sent` resolves once the request is written, `answer` with the status. */
  function postTracked(service: Service, body: string): { sent: Promise<void>; answer: Promise<number> } {
    let sent!: () => void;
    const written = new Promise<void>((resolve) => (sent = resolve));
    const answer = new Promise<number>((resolve, reject) => {
      const req = request(`${service.url}/log-stream`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.on('finish', sent);
      req.end(body);
    });
    return { sent: written, answer };
  }

  async function setup() {
    const start = dayAgo();
    const tenant = await h.tenant({ count: 0, start });
    const receiver = await h.receiver();
    const proxy = await startCountingProxy(receiver);
    h.defer(() => proxy.close());
    const service = await h.serve(h.env(tenant, { port: proxy.port }, { LOG_STREAM_TOKEN: TOKEN, LOG_STREAM_ONLY: 'true' }));
    const events = generateEvents(21 * 50, { start });
    const batches = Array.from({ length: 21 }, (_, i) => JSON.stringify(events.slice(i * 50, (i + 1) * 50).map(toStreamRecord)));
    // A first delivery alone, so the sink holds a connection opened ahead, as it does in steady operation.
    expect(await postTracked(service, batches[0]!).answer).toBe(200);
    return { receiver, proxy, service, events, batches };
  }

  it('ships them together on one connection, answering each only after the receiver confirmed its records', async () => {
    const { receiver, proxy, service, events, batches } = await setup();
    const before = proxy.connections;
    // The receiver's confirmation of the next shipment is held back: it stays in flight.
    proxy.hold();
    const answers: number[] = [];
    const first = postTracked(service, batches[1]!);
    first.answer.then((status) => answers.push(status), () => undefined);
    await first.sent;
    const rest = batches.slice(2).map((b) => postTracked(service, b));
    for (const r of rest) r.answer.then((status) => answers.push(status), () => undefined);
    await Promise.all(rest.map((r) => r.sent));
    // Nothing is answered while the shipment in flight is unconfirmed, not even deliveries that are not in it.
    await sleep(300);
    expect(answers).toEqual([]);
    proxy.release();
    expect(await Promise.all([first.answer, ...rest.map((r) => r.answer)])).toEqual(Array(20).fill(200));
    // 20 deliveries; one connection (and one confirmation) per shipment, where each used to take its own.
    const used = proxy.connections - before;
    expect(used).toBeLessThan(10);
    expect(checkDelivery(events, await receiver.messages())).toMatchObject({ delivered: events.length, missing: 0, duplicates: 0 });
  }, 60_000);

  it('answers every delivery of a shipment the receiver dropped 503, and their redelivery loses nothing', async () => {
    const { receiver, proxy, service, events, batches } = await setup();
    proxy.hold();
    const first = postTracked(service, batches[1]!);
    await first.sent;
    const rest = batches.slice(2, 6).map((b) => postTracked(service, b));
    await Promise.all(rest.map((r) => r.sent));
    await sleep(300);
    // The receiver dies with the shipment in flight, and its queued followers go on a connection it resets too.
    proxy.resetAll();
    const statuses = await Promise.all([first.answer, ...rest.map((r) => r.answer)]);
    expect(statuses.filter((s) => s !== 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses[0]).toBe(503);
    // Auth0 sends every 503 again; everything arrives, and what was answered 503 is shipped (again) once now.
    const again = await Promise.all(batches.slice(1, 6).map((b, i) => (statuses[i] === 200 ? Promise.resolve(200) : postTracked(service, b).answer)));
    expect(again).toEqual(Array(5).fill(200));
    const figures = checkDelivery(events.slice(0, 6 * 50), await receiver.messages());
    expect(figures).toMatchObject({ missing: 0 });
  }, 60_000);
});
