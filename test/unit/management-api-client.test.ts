import type { HttpRequest, HttpResponse } from '../../src/auth0/http';
import { ManagementApiClient } from '../../src/auth0/management-api-client';
import { LogStreamsApi } from '../../src/auth0/log-streams-api';
import { setupStream } from '../../src/log-stream/stream-setup';
import { Auth0ApiError, OutOfTimeError } from '../../src/errors';
import { FakeClock } from '../support/fakes';

type Responder = (req: HttpRequest) => HttpResponse | Error;

function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
const token = (value = 'tok-1', expires_in = 86400) => json(200, { access_token: value, expires_in, token_type: 'Bearer' });
const page = (ids: string[], headers: Record<string, string> = {}) => json(200, ids.map((id) => ({ log_id: id, type: 's' })), headers);

function setup(script: Responder[]) {
  const clock = new FakeClock();
  const requests: HttpRequest[] = [];
  const transport = async (req: HttpRequest): Promise<HttpResponse> => {
    requests.push(req);
    const next = script.shift();
    if (!next) throw new Error(`unexpected request ${req.method} ${req.url.pathname}`);
    const outcome = next(req);
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  const waits: string[] = [];
  const client = new ManagementApiClient({
    domain: 'tenant.auth0.com', clientId: 'cid', clientSecret: 'shh-secret', transport, clock, random: () => 1,
    onWait: (reason, ms) => waits.push(`${Math.round(ms)} ${reason}`),
  });
  const deadline = () => clock.now() + 60_000;
  return { client, clock, requests, waits, deadline };
}

describe('ManagementApiClient', () => {
  it('gets a client-credentials token for the tenant audience, then reads logs in checkpoint mode only', async () => {
    const { client, requests, deadline } = setup([() => token(), () => page(['2', '3'])]);
    const result = await client.getLogs({ from: '1', take: 50, deadline: deadline() });
    expect(result.logs.map((l) => l.log_id)).toEqual(['2', '3']);
    const [tokenReq, logsReq] = requests;
    expect(tokenReq?.url.href).toBe('https://tenant.auth0.com/oauth/token');
    expect(JSON.parse(tokenReq?.body ?? '')).toEqual({ grant_type: 'client_credentials', client_id: 'cid', client_secret: 'shh-secret', audience: 'https://tenant.auth0.com/api/v2/' });
    expect(logsReq?.url.pathname).toBe('/api/v2/logs');
    expect([...(logsReq?.url.searchParams.keys() ?? [])].sort()).toEqual(['from', 'take']);
    expect(logsReq?.url.searchParams.get('take')).toBe('50');
    expect(logsReq?.headers?.['authorization']).toBe('Bearer tok-1');
  });

  it('asks for the next page at the URL of the Link header, as Auth0 documents, even in a form it would not build', async () => {
    const link = (url: string) => ({ link: `<${url}>; rel="next"` });
    const next = 'https://tenant.auth0.com/api/v2/logs?take=2&from=3&cursor=opaque';
    const { client, requests, deadline } = setup([() => token(), () => page(['2', '3'], link(next)), () => page(['4'], link('https://tenant.auth0.com/api/v2/logs?take=2&from=4'))]);
    await client.getLogs({ from: '1', take: 2, deadline: deadline() });
    await client.getLogs({ from: '3', take: 2, deadline: deadline() });
    expect(requests.map((r) => r.url.href).slice(1)).toEqual(['https://tenant.auth0.com/api/v2/logs?from=1&take=2', next]);
  });

  it('builds the URL from its checkpoint when the Link continues from elsewhere, points to another host, or is absent', async () => {
    const link = (url: string) => ({ link: `<${url}>; rel="next"` });
    const { client, requests, deadline } = setup([
      () => token(),
      () => page(['2', '3'], link('https://tenant.auth0.com/api/v2/logs?take=2&from=2')),
      () => page(['4', '5'], link('https://elsewhere.example.com/api/v2/logs?take=2&from=5')),
      () => page(['6'], { link: '<https://tenant.auth0.com/api/v2/logs?take=2&from=6>; rel="prev"' }),
      () => page([]),
    ]);
    for (const from of ['1', '3', '5', '6']) await client.getLogs({ from, take: 2, deadline: deadline() });
    expect(requests.slice(2).map((r) => r.url.href)).toEqual(['3', '5', '6'].map((from) => `https://tenant.auth0.com/api/v2/logs?from=${from}&take=2`));
  });

  it('follows the Link of an empty page, which repeats the request, and a Link whose page size is another stops being followed', async () => {
    const same = 'https://tenant.auth0.com/api/v2/logs?take=2&from=9';
    const { client, requests, deadline } = setup([() => token(), () => page(['9'], { link: `<${same}>; rel="next"` }), () => page([], { link: `<${same}>; rel="next"` }), () => page([])]);
    await client.getLogs({ from: '8', take: 2, deadline: deadline() });
    await client.getLogs({ from: '9', take: 2, deadline: deadline() });
    await client.getLogs({ from: '9', take: 5, deadline: deadline() });
    expect(requests.slice(2).map((r) => r.url.href)).toEqual([same, 'https://tenant.auth0.com/api/v2/logs?from=9&take=5']);
  });

  it('waits for the later of x-ratelimit-reset and Retry-After after a 429', async () => {
    for (const [resetIn, retryAfter, expected] of [[3, 10, 10_000], [10, 3, 10_000]] as const) {
      const { client, clock, deadline } = setup([
        () => token(),
        () => json(429, { statusCode: 429, error: 'Too Many Requests', message: 'Global limit has been reached' }, { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(clock.now() / 1000 + resetIn), 'retry-after': String(retryAfter) }),
        () => page(['2']),
      ]);
      const start = clock.now();
      await client.getLogs({ from: '1', take: 1, deadline: deadline() });
      expect(clock.now() - start).toBe(expected);
    }
  });

  it('reuses the token until shortly before it expires', async () => {
    const { client, clock, requests, deadline } = setup([() => token('a', 3600), () => page([]), () => page([]), () => token('b', 3600), () => page([])]);
    await client.getLogs({ from: '1', take: 1, deadline: deadline() });
    clock.current += 3_000_000; // 50 minutes: still valid
    await client.getLogs({ from: '1', take: 1, deadline: deadline() });
    clock.current += 560_000; // 59.3 minutes: within the last minute, so refresh
    await client.getLogs({ from: '1', take: 1, deadline: deadline() });
    expect(requests.filter((r) => r.url.pathname === '/oauth/token')).toHaveLength(2);
    expect(requests.at(-1)?.headers?.['authorization']).toBe('Bearer b');
  });

  it('fetches the token ahead when warmed up, and the first page uses it without asking again', async () => {
    const { client, requests, deadline } = setup([() => token('early'), () => page(['2'])]);
    client.warmUp({ deadline: deadline() });
    // The token request left before any page was asked for.
    expect(requests.map((r) => r.url.pathname)).toEqual(['/oauth/token']);
    await client.getLogs({ from: '1', take: 1, deadline: deadline() });
    expect(requests.map((r) => r.url.pathname)).toEqual(['/oauth/token', '/api/v2/logs']);
    expect(requests[1]?.headers?.['authorization']).toBe('Bearer early');
  });

  it('reports credentials refused to a warm-up once, through the first page, without asking again', async () => {
    const { client, requests, deadline } = setup([() => json(401, { error: 'access_denied', error_description: 'Unauthorized' })]);
    client.warmUp({ deadline: deadline() });
    await expect(client.getLogs({ from: '1', take: 1, deadline: deadline() })).rejects.toMatchObject({ code: 'AUTH0_UNAUTHORIZED' });
    expect(requests).toHaveLength(1);
  });

  it('refreshes the token once on a 401, and fails on a second', async () => {
    const unauthorized = () => json(401, { statusCode: 401, error: 'Unauthorized', message: 'Expired token received for JSON Web Token validation' });
    const ok = setup([() => token('a'), unauthorized, () => token('b'), () => page(['2'])]);
    await expect(ok.client.getLogs({ from: '1', take: 1, deadline: ok.deadline() })).resolves.toEqual({ logs: [{ log_id: '2', type: 's' }] });

    const bad = setup([() => token('a'), unauthorized, () => token('b'), unauthorized]);
    await expect(bad.client.getLogs({ from: '1', take: 1, deadline: bad.deadline() })).rejects.toMatchObject({ status: 401, retriable: false });
  });

  it('waits for x-ratelimit-reset after a 429 and then continues', async () => {
    const { client, clock, waits, deadline } = setup([
      () => token(),
      () => json(429, { statusCode: 429, error: 'Too Many Requests', message: 'Global limit has been reached' }, { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(clock.now() / 1000) + 7) }),
      () => page(['2']),
    ]);
    const start = clock.now();
    await client.getLogs({ from: '1', take: 1, deadline: deadline() });
    expect(clock.now() - start).toBeGreaterThanOrEqual(6_000);
    expect(clock.now() - start).toBeLessThanOrEqual(7_000);
    expect(waits.join('\n')).toContain('429');
  });

  it('waits before the next request when x-ratelimit-remaining reaches 0', async () => {
    const { client, clock, deadline } = setup([
      () => token(),
      () => page(['2'], { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(clock.now() / 1000) + 5) }),
      () => page(['3']),
    ]);
    await client.getLogs({ from: '1', take: 1, deadline: deadline() });
    const before = clock.now();
    await client.getLogs({ from: '2', take: 1, deadline: deadline() });
    expect(clock.now() - before).toBeGreaterThanOrEqual(4_000);
  });

  it('stops with OutOfTimeError when the reset comes after the deadline', async () => {
    const { client, clock } = setup([
      () => token(),
      () => json(429, { message: 'Global limit has been reached' }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(clock.now() / 1000) + 120) }),
    ]);
    await expect(client.getLogs({ from: '1', take: 1, deadline: clock.now() + 30_000 })).rejects.toBeInstanceOf(OutOfTimeError);
  });

  it('retries 5xx and network errors with growing, jittered backoff', async () => {
    const { client, waits, deadline } = setup([
      () => token(),
      () => json(503, { message: 'Service Unavailable' }),
      () => new Error('socket hang up'),
      () => json(502, '<html>Bad gateway</html>'),
      () => page(['2']),
    ]);
    await client.getLogs({ from: '1', take: 1, deadline: deadline() });
    const delays = waits.map((w) => Number(w.split(' ')[0]));
    expect(delays).toEqual([250, 500, 1000]); // random() = 1: the top of each jitter window
  });

  it('stops at once when its signal fires: the request in flight is not retried', async () => {
    const abandoned = new Error('run over');
    const controller = new AbortController();
    const { client, requests, waits, deadline } = setup([
      () => token(),
      (req) => {
        expect(req.signal).toBe(controller.signal);
        controller.abort(abandoned);
        return new Error('socket hang up');
      },
    ]);
    await expect(client.getLogs({ from: '1', take: 1, deadline: deadline(), signal: controller.signal })).rejects.toBe(abandoned);
    expect(requests).toHaveLength(2);
    expect(waits).toEqual([]); // not even a "retrying" line after the run is over
  });

  it('makes no request at all for a signal that has already fired', async () => {
    const { client, requests, deadline } = setup([() => token(), () => page(['2'])]);
    await expect(client.getLogs({ from: '1', take: 1, deadline: deadline(), signal: AbortSignal.abort(new Error('run over')) })).rejects.toThrow('run over');
    expect(requests).toHaveLength(0);
  });

  it('gives up on 5xx after its attempts, with the last error', async () => {
    const script: Responder[] = [() => token(), ...Array.from({ length: 8 }, () => () => json(500, { message: 'boom' }))];
    const { client, deadline } = setup(script);
    await expect(client.getLogs({ from: '1', take: 1, deadline: deadline() })).rejects.toMatchObject({ status: 500, code: 'AUTH0_UNAVAILABLE' });
  });

  it.each([
    ['malformed JSON', { status: 200, headers: { 'content-type': 'application/json' }, body: '[{"log_id": "2"' }, 'not JSON'],
    ['an HTML page', { status: 200, headers: { 'content-type': 'text/html' }, body: '<html><body>Maintenance</body></html>' }, 'not JSON'],
    ['a non-array body', json(200, { logs: [] }), 'not an array'],
    ['an entry without a log id', json(200, [{ log_id: '2' }, { type: 's' }]), 'without a log_id'],
  ])('fails clearly on %s', async (_name, response, words) => {
    const { client, deadline } = setup([() => token(), () => response]);
    const error = await client.getLogs({ from: '1', take: 1, deadline: deadline() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Auth0ApiError);
    expect((error as Error).message).toContain(words);
    expect((error as Auth0ApiError).code).toBe('AUTH0_BAD_RESPONSE');
  });

  it('fails at once with Auth0\'s message on a 403, naming the missing scope', async () => {
    const { client, requests, deadline } = setup([() => token(), () => json(403, { statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected any of: read:logs' })]);
    const error = (await client.getLogs({ from: '1', take: 1, deadline: deadline() }).catch((e: unknown) => e)) as Auth0ApiError;
    expect(error.message).toContain('Insufficient scope');
    expect(error.message).toContain('read:logs');
    expect(error.retriable).toBe(false);
    expect(requests).toHaveLength(2);
  });

  it('explains rejected credentials without echoing the secret', async () => {
    const { client, deadline } = setup([() => json(401, { error: 'access_denied', error_description: 'Unauthorized' })]);
    const error = (await client.getLogs({ from: '1', take: 1, deadline: deadline() }).catch((e: unknown) => e)) as Auth0ApiError;
    expect(error.code).toBe('AUTH0_UNAUTHORIZED');
    expect(error.message).toContain('AUTH0_CLIENT_SECRET');
    expect(error.message).not.toContain('shh-secret');
  });

  it('bounds each request by the time left before the deadline', async () => {
    const { client, clock, requests } = setup([() => token(), () => page([])]);
    await client.getLogs({ from: '1', take: 1, deadline: clock.now() + 4_000 });
    expect(requests.every((r) => r.timeoutMs <= 4_000)).toBe(true);
  });
});

describe('ManagementApiClient at the deadline', () => {
  it('stops cleanly when a request is cut short by the run\'s deadline', async () => {
    const { HttpTimeoutError } = await import('../../src/auth0/http');
    const { client, clock } = setup([() => token(), () => new HttpTimeoutError('no response within 3000 ms')]);
    await expect(client.getLogs({ from: '1', take: 1, deadline: clock.now() + 3_000 })).rejects.toMatchObject({ name: 'OutOfTimeError', code: 'DEADLINE' });
  });

  it('retries a request that timed out on its own, well before the deadline', async () => {
    const { HttpTimeoutError } = await import('../../src/auth0/http');
    const { client, deadline } = setup([() => token(), () => new HttpTimeoutError('no response within 15000 ms'), () => page(['2'])]);
    await expect(client.getLogs({ from: '1', take: 1, deadline: deadline() })).resolves.toEqual({ logs: [{ log_id: '2', type: 's' }] });
  });
});

describe('ManagementApiClient counting requests for /metrics', () => {
  /** A transport that answers the token, then holds the logs request until the run abandons it, having sent it or not. */
  function abandoned(sentFirst: boolean) {
    const counted: string[] = [];
    const transport = (req: HttpRequest): Promise<HttpResponse> => {
      if (req.url.pathname === '/oauth/token') {
        req.onSent?.();
        return Promise.resolve(token());
      }
      if (sentFirst) req.onSent?.();
      return new Promise((_resolve, reject) => req.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    };
    const client = new ManagementApiClient({
      domain: 'tenant.auth0.com', clientId: 'cid', clientSecret: 'shh-secret', transport, clock: new FakeClock(), random: () => 1,
      metrics: { auth0Response: (endpoint, status) => void counted.push(`${endpoint} ${status}`), rateLimitWait: () => undefined, tokenRefreshed: () => undefined },
    });
    return { client, counted };
  }

  it('counts a request the run abandoned after sending it (it used the rate limit), with status 0', async () => {
    const { client, counted } = abandoned(true);
    const controller = new AbortController();
    const pending = client.getLogs({ from: '1', take: 100, deadline: Date.now() + 60_000, signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    controller.abort(new Error('run failed'));
    await expect(pending).rejects.toThrow('run failed');
    expect(counted).toEqual(['token 200', 'logs 0']);
  });

  it('does not count a request abandoned before it was sent', async () => {
    const { client, counted } = abandoned(false);
    const controller = new AbortController();
    const pending = client.getLogs({ from: '1', take: 100, deadline: Date.now() + 60_000, signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    controller.abort(new Error('run failed'));
    await expect(pending).rejects.toThrow('run failed');
    expect(counted).toEqual(['token 200']);
  });
});

describe('ManagementApiClient creating (POST)', () => {
  const stream = { id: 'lst_1', name: 'auth0-logs-to-papertrail', type: 'http', status: 'active', sink: { httpEndpoint: 'https://logs.example.com/log-stream' } };
  const posts = (requests: HttpRequest[]) => requests.filter((r) => r.method === 'POST' && r.url.pathname === '/api/v2/log-streams').length;

  it('sends a create once when Auth0 answers 5xx, since Auth0 may have created it', async () => {
    const { client, requests, deadline } = setup([() => token(), () => json(503, { error: 'Service Unavailable' }), () => json(201, stream)]);
    const failure = client.call('POST', '/api/v2/log-streams', { name: 'x' }, { deadline: deadline() });
    await expect(failure).rejects.toMatchObject({ code: 'AUTH0_OUTCOME_UNKNOWN', status: 503 });
    expect(posts(requests)).toBe(1);
  });

  it('sends a create once when no answer came', async () => {
    const { client, requests, deadline } = setup([() => token(), () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), () => json(201, stream)]);
    await expect(client.call('POST', '/api/v2/log-streams', { name: 'x' }, { deadline: deadline() })).rejects.toMatchObject({ code: 'AUTH0_OUTCOME_UNKNOWN' });
    expect(posts(requests)).toBe(1);
  });

  it('waits out a 429 and sends the create again: Auth0 did not act on it', async () => {
    const { client, requests, deadline } = setup([() => token(), () => json(429, { error: 'Too Many Requests' }, { 'retry-after': '1' }), () => json(201, stream)]);
    expect(await client.call('POST', '/api/v2/log-streams', { name: 'x' }, { deadline: deadline() })).toEqual(stream);
    expect(posts(requests)).toBe(2);
  });

  it('still retries a GET after a 5xx', async () => {
    const { client, requests, deadline } = setup([() => token(), () => json(503, { error: 'Service Unavailable' }), () => json(200, [stream])]);
    expect(await client.call('GET', '/api/v2/log-streams', undefined, { deadline: deadline() })).toEqual([stream]);
    expect(requests.filter((r) => r.method === 'GET')).toHaveLength(2);
  });

  it('lets stream setup find the stream a create without an answer made, instead of creating a second one', async () => {
    const { client, requests, deadline } = setup([() => token(), () => json(200, []), () => json(502, { error: 'Bad Gateway' }), () => json(200, [stream])]);
    const api = new LogStreamsApi(client, () => ({ deadline: deadline() }));
    const result = await setupStream(api, { url: 'https://logs.example.com/log-stream', token: 'stream-token', name: 'auth0-logs-to-papertrail', id: null });
    expect(result).toMatchObject({ action: 'created', stream: { id: 'lst_1' } });
    expect(posts(requests)).toBe(1);
  });

  it('lets stream setup create again when the stream is not there after a create without an answer', async () => {
    const { client, requests, deadline } = setup([() => token(), () => json(200, []), () => json(500, { error: 'Internal Server Error' }), () => json(200, []), () => json(201, stream)]);
    const api = new LogStreamsApi(client, () => ({ deadline: deadline() }));
    const result = await setupStream(api, { url: 'https://logs.example.com/log-stream', token: 'stream-token', name: 'auth0-logs-to-papertrail', id: null });
    expect(result).toMatchObject({ action: 'created', stream: { id: 'lst_1' } });
    expect(posts(requests)).toBe(2);
  });
});
