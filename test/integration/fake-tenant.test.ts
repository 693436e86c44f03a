/**
 * The simulated Auth0 tenant is the ground truth for the exporter's
 * integration tests and benchmarks, so its own behaviour is checked here over
 * real HTTPS against the documented API (reference §1).
 */
import { Agent, request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { startFakeTenant, type FakeTenant, type FakeTenantOptions, type TenantFault } from '../support/fake-tenant';
import {
  eventAt,
  generateEvents,
  hostileStrings,
  logIdSecond,
  makeLogId,
  type TenantEvent,
} from '../support/events';

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  reusedSocket: boolean;
}

interface Call {
  method?: string;
  token?: string;
  body?: string;
  contentType?: string;
}

function call(tenant: FakeTenant, agent: Agent, path: string, options: Call = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    const req = request(`${tenant.url}${path}`, { method: options.method ?? 'GET', ca: tenant.ca, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), reusedSocket: req.reusedSocket }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function getToken(tenant: FakeTenant, agent: Agent): Promise<string> {
  const res = await call(tenant, agent, '/oauth/token', {
    method: 'POST',
    contentType: 'application/json',
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret, audience: tenant.audience }),
  });
  expect(res.status).toBe(200);
  return (JSON.parse(res.body) as { access_token: string }).access_token;
}

function nextLink(res: Response): string {
  const link = String(res.headers['link'] ?? '');
  const match = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  if (!match) throw new Error(`no next link in ${JSON.stringify(link)}`);
  return match[1] as string;
}

function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

function parsePage(res: Response): TenantEvent[] {
  expect(res.status).toBe(200);
  const body: unknown = JSON.parse(res.body);
  expect(Array.isArray(body)).toBe(true);
  return body as TenantEvent[];
}

/** Starts a tenant and a keep-alive agent, runs `fn`, and always stops both. */
async function withTenant(options: FakeTenantOptions, fn: (tenant: FakeTenant, agent: Agent) => Promise<void>): Promise<void> {
  const tenant = await startFakeTenant(options);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  try {
    await fn(tenant, agent);
  } finally {
    agent.destroy();
    await tenant.stop();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('event generator', () => {
  test('makeLogId is 56 digits: 900, the UTC second, then a zero-padded sequence that orders ids within a second', () => {
    const date = new Date(Date.UTC(2021, 11, 1, 18, 51, 32, 572));
    const id = makeLogId(date, 42);
    expect(id).toMatch(/^\d{56}$/);
    expect(id.startsWith('90020211201185132')).toBe(true);
    expect(id.endsWith('42')).toBe(true);
    expect(makeLogId(date, 43) > id).toBe(true);
    expect(makeLogId(new Date(date.getTime() + 1000), 0) > makeLogId(date, 10 ** 15)).toBe(true);
    expect(logIdSecond(id)).toBe(Math.floor(date.getTime() / 1000));
  });

  test('is deterministic per seed, lazy eventAt equals the batch, and never calls Math.random', () => {
    const random = jest.spyOn(Math, 'random');
    try {
      const a = generateEvents(300, { seed: 9 });
      expect(generateEvents(300, { seed: 9 })).toEqual(a);
      expect(generateEvents(300, { seed: 10 })).not.toEqual(a);
      expect(eventAt(123, { seed: 9 })).toEqual(a[123]);
      expect(random).not.toHaveBeenCalled();
    } finally {
      random.mockRestore();
    }
  });

  test('log ids strictly increase; dates trail the id time by at most the jitter and are out of log_id order somewhere', () => {
    const events = generateEvents(2000, { dateJitterMs: 2000, perSecond: 20 });
    let outOfOrder = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as TenantEvent;
      expect(e._id).toBe(e.log_id);
      const idSec = logIdSecond(e.log_id) as number;
      const date = Date.parse(e.date as string);
      expect(date).toBeLessThan((idSec + 1) * 1000);
      expect(date).toBeGreaterThanOrEqual(idSec * 1000 - 2000);
      if (i > 0) {
        const prev = events[i - 1] as TenantEvent;
        expect(e.log_id > prev.log_id).toBe(true);
        if (date < Date.parse(prev.date as string)) outOfOrder++;
      }
    }
    expect(outOfOrder).toBeGreaterThan(0);
  });

  test('without jitter, date order equals log_id order', () => {
    const events = generateEvents(500, { dateJitterMs: 0 });
    for (let i = 1; i < events.length; i++) {
      expect(Date.parse((events[i] as TenantEvent).date as string)).toBeGreaterThanOrEqual(Date.parse((events[i - 1] as TenantEvent).date as string));
    }
  });

  test('draws a realistic mix of types, including codes no table knows', () => {
    const types = new Set(generateEvents(5000).map((e) => e.type));
    for (const t of ['s', 'ssa', 'seacft', 'sapi', 'f', 'fp', 'fu', 'w', 'sepft', 'slo', 'pla', 'api_limit_warning', 'gd_send_sms', 'limit_wc', 'zz_new_type']) {
      expect(types).toContain(t);
    }
    const login = generateEvents(200).find((e) => e.type === 's') as TenantEvent;
    expect(login).toMatchObject({ connection: expect.any(String), client_id: expect.any(String), user_id: expect.any(String), strategy: expect.any(String), isMobile: expect.any(Boolean) });
    expect(login.ip).toMatch(/^(203\.0\.113|198\.51\.100|192\.0\.2)\.\d+$|^2001:db8::/);
  });

  test('hostileEvery puts CR, LF, NUL, lone surrogates, U+2028 and a forged syslog header into every n-th event', () => {
    const events = generateEvents(40, { hostileEvery: 4 });
    const hostile = events.filter((_, i) => (i + 1) % 4 === 0);
    expect(hostile).toHaveLength(10);
    for (const e of hostile) {
      expect(hostileStrings).toContain(e.description);
      expect(hostileStrings).toContain(e.user_name);
    }
    const all = JSON.stringify(hostile.map((e) => e.details));
    for (const needle of ['\\r', '\\n', '\\u0000', '\\ud800', '\\udc00', '\u2028', '\u0085', '<134>1 fake syslog header', '🔐', 'שלום']) {
      expect(all).toContain(needle);
    }
    expect(events[0]?.description).not.toContain('\n');
  });

  test('hugeEvery gives every n-th event a multibyte details.blob whose JSON exceeds 100,000 bytes', () => {
    const events = generateEvents(6, { hugeEvery: 3 });
    for (const [i, e] of events.entries()) {
      const blob = e.details?.['blob'];
      if ((i + 1) % 3 === 0) {
        expect(typeof blob).toBe('string');
        expect((blob as string).length).toBeGreaterThanOrEqual(150_000);
        expect(blob).toMatch(/[^\x00-\x7f]/);
        expect(Buffer.byteLength(JSON.stringify(e))).toBeGreaterThan(100_000);
      } else {
        expect(blob).toBeUndefined();
      }
    }
  });
});

describe('fake tenant: token endpoint', () => {
  test('issues opaque Bearer tokens for client credentials sent as JSON or as a form', () =>
    withTenant({ count: 1 }, async (tenant, agent) => {
      const asJson = await call(tenant, agent, '/oauth/token', {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'test-client-id', client_secret: 'test-client-secret', audience: `https://${tenant.domain}/api/v2/` }),
      });
      expect(asJson.status).toBe(200);
      expect(JSON.parse(asJson.body)).toEqual({ access_token: expect.any(String), expires_in: 86400, scope: 'read:logs', token_type: 'Bearer' });

      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'test-client-id', client_secret: 'test-client-secret', audience: tenant.audience });
      const asForm = await call(tenant, agent, '/oauth/token', { method: 'POST', contentType: 'application/x-www-form-urlencoded', body: form.toString() });
      expect(asForm.status).toBe(200);
      expect(JSON.parse(asForm.body).access_token).not.toBe(JSON.parse(asJson.body).access_token);
      expect(tenant.stats().tokensIssued).toBe(2);
    }));

  test('rejects a wrong secret with 401 access_denied and a foreign audience with 403', () =>
    withTenant({ clientId: 'cid', clientSecret: 'right' }, async (tenant, agent) => {
      const post = (body: Record<string, string>): Promise<Response> =>
        call(tenant, agent, '/oauth/token', { method: 'POST', contentType: 'application/json', body: JSON.stringify(body) });
      const wrong = await post({ grant_type: 'client_credentials', client_id: 'cid', client_secret: 'wrong', audience: tenant.audience });
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.body)).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
      const foreign = await post({ grant_type: 'client_credentials', client_id: 'cid', client_secret: 'right', audience: 'https://elsewhere.example/api/v2/' });
      expect(foreign.status).toBe(403);
      expect(tenant.stats().tokenResponses).toEqual({ 401: 1, 403: 1 });
    }));
});

describe('fake tenant: logs in checkpoint mode', () => {
  test('paging by from is exclusive and ordered, and walks the whole log exactly once', () =>
    withTenant({ count: 250 }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      const seen: string[] = [];
      let path = '/api/v2/logs?from=0&take=100';
      for (;;) {
        const res = await call(tenant, agent, path, { token });
        const page = parsePage(res);
        if (page.length === 0) break;
        seen.push(...page.map((e) => e.log_id));
        path = pathOf(nextLink(res));
      }
      expect(seen).toHaveLength(250);
      expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => tenant.idAt(i)));

      const after = parsePage(await call(tenant, agent, `/api/v2/logs?from=${tenant.idAt(5)}&take=3`, { token }));
      expect(after.map((e) => e.log_id)).toEqual([tenant.idAt(6), tenant.idAt(7), tenant.idAt(8)]);
      expect(after[0]).toEqual(tenant.eventAt(6));
    }));

  test('Link next points at the last id of the page and keeps take, in another order than a client would write it; other parameters are ignored', () =>
    withTenant({ count: 20 }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      const res = await call(tenant, agent, `/api/v2/logs?from=${tenant.idAt(2)}&take=7&q=type:f&sort=date:-1&per_page=2`, { token });
      const page = parsePage(res);
      expect(page).toHaveLength(7);
      expect(nextLink(res)).toBe(`${tenant.url}/api/v2/logs?take=7&from=${tenant.idAt(9)}`);
      const plain = parsePage(await call(tenant, agent, `/api/v2/logs?from=${tenant.idAt(2)}&take=7`, { token }));
      expect(plain).toEqual(page);
    }));

  test("an empty page's next URL equals the request's own URL", () =>
    withTenant({ count: 3 }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      const path = `/api/v2/logs?from=${tenant.lastId() as string}&take=50&fields=log_id`;
      const res = await call(tenant, agent, path, { token });
      expect(parsePage(res)).toEqual([]);
      expect(nextLink(res)).toBe(`${tenant.url}${path}`);
    }));

  test('take outside 1..100 and a missing from are rejected with 400', () =>
    withTenant({ count: 3 }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      for (const take of ['101', '0', '-1', 'abc', '1.5']) {
        const res = await call(tenant, agent, `/api/v2/logs?from=0&take=${take}`, { token });
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body)).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining('take') });
      }
      const search = await call(tenant, agent, '/api/v2/logs?take=10&q=type:s', { token });
      expect(search.status).toBe(400);
      expect(JSON.parse(search.body).message).toMatch(/checkpoint mode/);
      expect(parsePage(await call(tenant, agent, '/api/v2/logs?from=0&take=100', { token }))).toHaveLength(3);
      expect(tenant.stats().largestTake).toBe(101);
    }));

  test('a missing, unknown or expired token is answered 401', () =>
    withTenant({ count: 3, tokenTtlSeconds: 0.3 }, async (tenant, agent) => {
      const missing = await call(tenant, agent, '/api/v2/logs?from=0&take=1');
      expect(missing.status).toBe(401);
      const invalid = await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token: 'forged' });
      expect(JSON.parse(invalid.body)).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Invalid token' });

      const askedAt = Date.now();
      const token = await getToken(tenant, agent);
      expect((await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token })).status).toBe(200);
      // Asked again until refused (no fixed wait): refused, and not before its 0.3 s lifetime.
      let expired = await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token });
      while (expired.status === 200 && Date.now() - askedAt < 5_000) {
        await sleep(20);
        expired = await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token });
      }
      // Refused no sooner than 0.3 s after the token was asked for (so, after it was issued).
      expect(Date.now() - askedAt).toBeGreaterThanOrEqual(300);
      expect(expired.status).toBe(401);
      expect(JSON.parse(expired.body)).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Expired token received for JSON Web Token validation' });
      expect(expired.headers['x-ratelimit-limit']).toBeDefined();
    }));

  test('counts the requests made at a URL a Link header gave, and only those', () =>
    withTenant({ count: 20 }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      const first = await call(tenant, agent, `/api/v2/logs?from=0&take=5`, { token });
      await call(tenant, agent, pathOf(nextLink(first)), { token });
      await call(tenant, agent, `/api/v2/logs?from=${tenant.idAt(9)}&take=5`, { token });
      expect(tenant.stats()).toMatchObject({ logsRequests: 3, followedLinks: 1 });
    }));

  test('expireTokensEvery expires every token issued so far on every n-th logs request, under a running export', () =>
    withTenant({ count: 10, expireTokensEvery: 3 }, async (tenant, agent) => {
      const statuses: number[] = [];
      let token = await getToken(tenant, agent);
      for (let k = 0; k < 6; k++) {
        const res = await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token });
        statuses.push(res.status);
        if (res.status === 401) {
          expect(JSON.parse(res.body).message).toBe('Expired token received for JSON Web Token validation');
          token = await getToken(tenant, agent);
        }
      }
      expect(statuses).toEqual([200, 200, 401, 200, 200, 401]);
      expect(tenant.stats().forcedExpiries).toBe(2);
    }));

  test('expireTokens() expires every token issued so far', () =>
    withTenant({ count: 1 }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      tenant.expireTokens();
      const res = await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token });
      expect(JSON.parse(res.body).message).toBe('Expired token received for JSON Web Token validation');
      expect((await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token: await getToken(tenant, agent) })).status).toBe(200);
    }));

  test('the token bucket answers 429 once empty, with a reset header at which a request succeeds again', () =>
    withTenant({ count: 10, rateLimit: { limit: 3, refillPerSecond: 2 } }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      const remaining: string[] = [];
      for (let k = 0; k < 3; k++) {
        const res = await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token });
        expect(res.status).toBe(200);
        expect(res.headers['x-ratelimit-limit']).toBe('3');
        remaining.push(String(res.headers['x-ratelimit-remaining']));
      }
      expect(remaining).toEqual(['2', '1', '0']);

      const limited = await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token });
      expect(limited.status).toBe(429);
      expect(JSON.parse(limited.body)).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'Global limit has been reached', errorCode: 'too_many_requests' });
      expect(limited.headers['x-ratelimit-remaining']).toBe('0');
      // RFC 9110 delay-seconds: one token takes 0.5 s, so one second, rounded up.
      expect(limited.headers['retry-after']).toBe('1');
      const reset = Number(limited.headers['x-ratelimit-reset']);
      const nowSec = Date.now() / 1000;
      // One token refills in 0.5 s; reset is that moment rounded up to a whole second.
      expect(reset).toBeGreaterThanOrEqual(Math.floor(nowSec));
      expect(reset).toBeLessThanOrEqual(Math.ceil(nowSec) + 1);

      await sleep(Math.max(0, reset * 1000 - Date.now()) + 20);
      expect((await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token })).status).toBe(200);
      expect(tenant.stats().logsResponses[429]).toBe(1);
    }));

  test("with resetMeans 'bucket-full', x-ratelimit-reset names the second the bucket is whole again", () =>
    withTenant({ count: 10, rateLimit: { limit: 4, refillPerSecond: 1 }, resetMeans: 'bucket-full' }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      let last: Response | undefined;
      for (let k = 0; k < 4; k++) last = await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token });
      const nowSec = Date.now() / 1000;
      // Four tokens at one a second: four seconds from empty (the next-token reading would say one).
      const reset = Number(last?.headers['x-ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(Math.floor(nowSec) + 3);
      expect(reset).toBeLessThanOrEqual(Math.ceil(nowSec) + 5);
    }));

  test('an unlimited tenant still sends rate-limit headers with a large limit', () =>
    withTenant({ count: 1 }, async (tenant, agent) => {
      const res = await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token: await getToken(tenant, agent) });
      expect(Number(res.headers['x-ratelimit-limit'])).toBeGreaterThanOrEqual(100_000);
      expect(Number(res.headers['x-ratelimit-remaining'])).toBeGreaterThan(0);
      expect(Math.abs(Number(res.headers['x-ratelimit-reset']) - Date.now() / 1000)).toBeLessThan(5);
    }));

  test('failureRate answers roughly that share of logs requests with Auth0-shaped 500/502/503', () =>
    withTenant({ count: 5, failureRate: 0.25, seed: 3 }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      const statuses = new Map<number, number>();
      for (let k = 0; k < 400; k++) {
        const res = await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) expect(JSON.parse(res.body)).toMatchObject({ statusCode: res.status, error: expect.any(String), message: expect.any(String) });
      }
      const failures = 400 - (statuses.get(200) ?? 0);
      expect(failures).toBeGreaterThan(400 * 0.17);
      expect(failures).toBeLessThan(400 * 0.33);
      expect([...statuses.keys()].sort()).toEqual([200, 500, 502, 503]);
      tenant.setFailureRate(0);
      expect((await call(tenant, agent, '/api/v2/logs?from=0&take=1', { token })).status).toBe(200);
    }));

  test('each fault mode breaks the response in its own way until cleared', () =>
    withTenant({ count: 5 }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      const get = (): Promise<Response> => call(tenant, agent, '/api/v2/logs?from=0&take=5', { token });
      const expectations: Record<Exclude<TenantFault, null>, (res: Response) => void> = {
        'malformed-json': (res) => {
          expect(res.status).toBe(200);
          expect(res.headers['content-type']).toMatch(/json/);
          expect(() => JSON.parse(res.body)).toThrow();
        },
        html: (res) => {
          expect(res.status).toBe(200);
          expect(res.headers['content-type']).toMatch(/text\/html/);
          expect(res.body).toMatch(/^<!DOCTYPE html>/);
        },
        'non-array': (res) => {
          const body: unknown = JSON.parse(res.body);
          expect(Array.isArray(body)).toBe(false);
          expect(body).toMatchObject({ logs: expect.any(Array) });
        },
        'missing-log-id': (res) => {
          const page = parsePage(res);
          expect(page).toHaveLength(5);
          expect(page[4]).not.toHaveProperty('log_id');
          expect(page[4]).not.toHaveProperty('_id');
          expect(page[3]?.log_id).toBe(tenant.idAt(3));
        },
        forbidden: (res) => {
          expect(res.status).toBe(403);
          expect(JSON.parse(res.body)).toMatchObject({ statusCode: 403, error: 'Forbidden' });
        },
      };
      for (const [fault, check] of Object.entries(expectations)) {
        tenant.setFault(fault as TenantFault);
        check(await get());
      }
      tenant.setFault(null);
      expect(parsePage(await get()).map((e) => e.log_id)).toEqual([0, 1, 2, 3, 4].map((i) => tenant.idAt(i)));
    }));

  test('append and appendEvents grow the log after its newest id; older ids are refused', () =>
    withTenant({ count: 5 }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      const oldLast = tenant.lastId() as string;
      expect(parsePage(await call(tenant, agent, `/api/v2/logs?from=${oldLast}&take=100`, { token }))).toEqual([]);

      tenant.append(3);
      expect(tenant.size()).toBe(8);
      const grown = parsePage(await call(tenant, agent, `/api/v2/logs?from=${oldLast}&take=100`, { token }));
      expect(grown.map((e) => e.log_id)).toEqual([5, 6, 7].map((i) => tenant.idAt(i)));

      const later = makeLogId(new Date(Date.UTC(2030, 0, 1)), 1);
      tenant.appendEvents([{ log_id: later, _id: later, type: 'zz_new_type', description: 'custom' }]);
      tenant.append(2);
      const tail = parsePage(await call(tenant, agent, `/api/v2/logs?from=${tenant.idAt(7)}&take=100`, { token }));
      expect(tail.map((e) => e.log_id)).toEqual([later, tenant.idAt(9), tenant.idAt(10)]);
      expect(tenant.idAt(9) > later).toBe(true);
      expect(() => tenant.appendEvents([{ log_id: oldLast }])).toThrow(RangeError);
    }));

  test('a tenant seeded with explicit events serves them as given', () =>
    withTenant({ events: generateEvents(4, { seed: 5 }).reverse() }, async (tenant, agent) => {
      const page = parsePage(await call(tenant, agent, '/api/v2/logs?from=0&take=10', { token: await getToken(tenant, agent) }));
      expect(page).toEqual(generateEvents(4, { seed: 5 }));
    }));

  test('hostile and huge events survive the JSON round trip unchanged', () =>
    withTenant({ count: 12, hostileEvery: 2, hugeEvery: 5 }, async (tenant, agent) => {
      const page = parsePage(await call(tenant, agent, '/api/v2/logs?from=0&take=12', { token: await getToken(tenant, agent) }));
      expect(page).toEqual(Array.from({ length: 12 }, (_, i) => tenant.eventAt(i)));
      expect(page[1]?.description).toBe(tenant.eventAt(1).description);
      expect(typeof page[4]?.details?.['blob']).toBe('string');
    }));

  test('a million-event tenant is lazy: it starts at once and serves any point of the log', () =>
    withTenant({ count: 1_000_000 }, async (tenant, agent) => {
      const token = await getToken(tenant, agent);
      const middle = parsePage(await call(tenant, agent, `/api/v2/logs?from=${tenant.idAt(500_000)}&take=100`, { token }));
      expect(middle).toHaveLength(100);
      expect(middle[0]?.log_id).toBe(tenant.idAt(500_001));
      const end = await call(tenant, agent, `/api/v2/logs?from=${tenant.idAt(999_950)}&take=100`, { token });
      expect(parsePage(end)).toHaveLength(49);
      expect(new URL(nextLink(end)).searchParams.get('from')).toBe(tenant.idAt(999_999));
      expect(tenant.stats().served).toBe(149);
    }));

  test('keeps connections alive, reports stats, delays by latencyMs, and stop() closes open sockets', async () => {
    const tenant = await startFakeTenant({ count: 30, latencyMs: 120 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const token = await getToken(tenant, agent);
      const started = Date.now();
      const res = await call(tenant, agent, '/api/v2/logs?from=0&take=10', { token });
      expect(Date.now() - started).toBeGreaterThanOrEqual(110);
      expect(res.reusedSocket).toBe(true);
      expect(tenant.stats()).toEqual({
        tokenRequests: 1,
        tokensIssued: 1,
        logsRequests: 1,
        served: 10,
        logsResponses: { 200: 1 },
        tokenResponses: { 200: 1 },
        largestTake: 10,
        lowestRemaining: null,
        followedLinks: 0,
        forcedExpiries: 0,
        retryAfterSent: [],
      });
      tenant.resetStats();
      expect(tenant.stats().served).toBe(0);
    } finally {
      // The agent still holds an idle keep-alive socket: stop() must not wait for it.
      const stopping = Date.now();
      await tenant.stop();
      expect(Date.now() - stopping).toBeLessThan(1000);
      agent.destroy();
    }
    await expect(call(tenant, new Agent(), '/api/v2/logs?from=0&take=1')).rejects.toThrow(/ECONNREFUSED/);
  });
});
