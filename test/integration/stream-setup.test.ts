/**
 * The tenant's side of the log stream. First the simulated tenant itself,
 * held to Auth0's documented log-streams API (list, get, create, patch,
 * `status`, 403 naming the scope) and to what Auth0 does with a stream whose
 * deliveries keep failing (paused, then suspended, events queued). Then
 * `stream setup` and `stream status` as real CLI processes against it.
 */
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { runCli } from '../support/cli';
import { ALL_LOG_STREAM_SCOPES, startFakeTenant, type FakeTenant, type TenantLogStream } from '../support/fake-tenant';
import { until } from '../support/serve';

const CLIENT_SECRET = 'setup-client-secret-7a8b9c0d1e2f';
const STREAM_TOKEN = 'setup-stream-token-0f1e2d3c4b5a6978';
const OTHER_TOKEN = 'setup-stream-token-changed-99887766';
let tenant: FakeTenant;

beforeEach(async () => {
  tenant = await startFakeTenant({ count: 0, clientSecret: CLIENT_SECRET, scopes: ALL_LOG_STREAM_SCOPES, streamDelivery: { pauseAfterMs: 600, suspendAfterMs: 1_200, retryMs: 50 } });
});
afterEach(async () => {
  await tenant.stop();
});

interface Answer { status: number; body: unknown }

function api(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = request(`${tenant.url}${path}`, { method, ca: tenant.ca, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? null : (JSON.parse(text) as unknown) }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function token(): Promise<string> {
  const answer = await new Promise<Answer>((resolve, reject) => {
    const req = request(`${tenant.url}/oauth/token`, { method: 'POST', ca: tenant.ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: CLIENT_SECRET, audience: tenant.audience }));
  });
  return (answer.body as { access_token: string }).access_token;
}

/** A webhook receiver on loopback answering `status()`, counting the records it accepted. */
async function startWebhook(status: () => number): Promise<{ url: string; ids: string[]; close(): Promise<void> }> {
  const ids: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const code = status();
      if (code >= 200 && code < 300) for (const record of JSON.parse(body) as Array<{ log_id: string }>) ids.push(record.log_id);
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/log-stream`, ids, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

describe('the simulated tenant, as Auth0 documents its log streams', () => {
  it('creates, lists, gets and patches a Custom Webhook stream, with its status', async () => {
    const bearer = await token();
    const sink = { httpEndpoint: 'https://logs.example.com/log-stream', httpContentType: 'application/json', httpContentFormat: 'JSONARRAY', httpAuthorization: 'Bearer x' };
    const created = await api('POST', '/api/v2/log-streams', bearer, { name: 'mine', type: 'http', sink });
    expect(created.status).toBe(201);
    const stream = created.body as TenantLogStream;
    expect(stream).toEqual({ id: expect.any(String), name: 'mine', type: 'http', status: 'active', sink });
    expect((await api('GET', '/api/v2/log-streams', bearer)).body).toEqual([stream]);
    expect((await api('GET', `/api/v2/log-streams/${stream.id}`, bearer)).body).toEqual(stream);
    const paused = await api('PATCH', `/api/v2/log-streams/${stream.id}`, bearer, { status: 'paused' });
    expect(paused).toEqual({ status: 200, body: { ...stream, status: 'paused' } });
    expect((await api('PATCH', `/api/v2/log-streams/${stream.id}`, bearer, { status: 'stopped' })).status).toBe(400);
    expect((await api('POST', '/api/v2/log-streams', bearer, { name: 'no sink', type: 'http' })).status).toBe(400);
    expect((await api('GET', '/api/v2/log-streams/lst_missing', bearer)).status).toBe(404);
  });

  it('answers 403 insufficient_scope naming the scope when the grant lacks it', async () => {
    tenant.setScopes(['read:logs']);
    const bearer = await token();
    for (const [method, path, scope] of [['GET', '/api/v2/log-streams', 'read:log_streams'], ['POST', '/api/v2/log-streams', 'create:log_streams'], ['PATCH', '/api/v2/log-streams/lst_1', 'update:log_streams']] as const) {
      const answer = await api(method, path, bearer, method === 'GET' ? undefined : {});
      expect(answer.status).toBe(403);
      expect(answer.body).toMatchObject({ statusCode: 403, errorCode: 'insufficient_scope', message: expect.stringContaining(scope) });
    }
  });

  it('pauses a stream whose deliveries keep failing, suspends it later, and delivers the queued events once it is active again', async () => {
    let answer = 200;
    const hook = await startWebhook(() => answer);
    try {
      const bearer = await token();
      const created = (await api('POST', '/api/v2/log-streams', bearer, { name: 's', type: 'http', sink: { httpEndpoint: hook.url, httpContentFormat: 'JSONARRAY' } })).body as TenantLogStream;
      tenant.append(30);
      await until('30 events delivered', () => hook.ids.length === 30);
      answer = 503;
      tenant.append(10);
      await until('the stream suspended', () => tenant.logStreams()[0]?.status === 'suspended', 10_000);
      expect(tenant.streamDeliveries(created.id).statusHistory.map((h) => `${h.status}/${h.by}`)).toEqual(['active/api', 'paused/tenant', 'suspended/tenant']);
      answer = 200;
      const before = tenant.streamDeliveries(created.id).requests;
      await new Promise((r) => setTimeout(r, 300));
      // Suspended: nothing is sent until someone sets it active.
      expect(tenant.streamDeliveries(created.id).requests).toBe(before);
      await api('PATCH', `/api/v2/log-streams/${created.id}`, bearer, { status: 'active' });
      await until('the queued events delivered', () => hook.ids.length === 40);
      expect(new Set(hook.ids).size).toBe(40);
    } finally {
      await hook.close();
    }
  });
});

describe('stream setup and stream status', () => {
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    AUTH0_DOMAIN: tenant.domain, AUTH0_CLIENT_ID: tenant.clientId, AUTH0_CLIENT_SECRET: CLIENT_SECRET,
    PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '6514', LOG_STREAM_TOKEN: STREAM_TOKEN,
    NODE_EXTRA_CA_CERTS: tenant.caFile, ...extra,
  });
  const URL_ = 'https://logs.example.com/log-stream';
  const noSecrets = (text: string): void => {
    for (const secret of [CLIENT_SECRET, STREAM_TOKEN, OTHER_TOKEN]) expect(text).not.toContain(secret);
  };

  it('creates the stream once, then says "unchanged", and updates it when the token changes', async () => {
    const first = await runCli(['stream', 'setup', '--url', URL_], env());
    expect(first.code).toBe(0);
    expect(first.report).toMatchObject({ status: 'created', stream: { name: 'auth0-logs-to-papertrail', status: 'active', endpoint: URL_, authorization: 'set' } });
    const streams = tenant.logStreams();
    expect(streams).toHaveLength(1);
    expect(streams[0]?.sink).toEqual({ httpEndpoint: URL_, httpContentType: 'application/json', httpContentFormat: 'JSONARRAY', httpAuthorization: `Bearer ${STREAM_TOKEN}` });

    const second = await runCli(['stream', 'setup', '--url', URL_], env());
    expect(second.code).toBe(0);
    expect(second.report).toMatchObject({ status: 'unchanged' });
    expect(second.stderr).toContain('nothing changed');
    expect(tenant.logStreams()).toEqual(streams);
    expect(tenant.logStreamRequests().filter((r) => r.method !== 'GET')).toHaveLength(1);

    const third = await runCli(['stream', 'setup', '--url', URL_], env({ LOG_STREAM_TOKEN: OTHER_TOKEN }));
    expect(third.code).toBe(0);
    expect(third.report).toMatchObject({ status: 'updated' });
    expect(tenant.logStreams()).toHaveLength(1);
    expect(tenant.logStreams()[0]?.sink['httpAuthorization']).toBe(`Bearer ${OTHER_TOKEN}`);

    const status = await runCli(['stream', 'status'], env({ LOG_STREAM_TOKEN: OTHER_TOKEN }));
    expect(status.code).toBe(0);
    expect(status.report).toEqual({ status: 'found', stream: { id: streams[0]?.id, name: 'auth0-logs-to-papertrail', type: 'http', status: 'active', endpoint: URL_, contentFormat: 'JSONARRAY', authorization: 'set' } });
    for (const run of [first, second, third, status]) noSecrets(run.stdout + run.stderr);
  });

  it('exits 2 naming the scope to grant when the application lacks it', async () => {
    tenant.setScopes(['read:logs', 'read:log_streams']);
    const result = await runCli(['stream', 'setup', '--url', URL_], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('create:log_streams');
    expect(result.report).toMatchObject({ status: 'failed', error: { code: 'AUTH0_MISSING_SCOPE' } });
    expect(tenant.logStreams()).toHaveLength(0);
    tenant.setScopes(['read:logs']);
    const status = await runCli(['stream', 'status'], env());
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('read:log_streams');
    noSecrets(result.stdout + result.stderr + status.stdout + status.stderr);
  });

  it.each([
    ['http://logs.example.com/log-stream', 'https only'],
    ['https://127.0.0.1:8443/log-stream', 'loopback'],
    ['https://10.1.2.3/log-stream', 'private'],
    ['https://[::1]/log-stream', 'loopback'],
    ['https://localhost/log-stream', 'loopback'],
  ])('refuses %s before any request', async (url, words) => {
    const result = await runCli(['stream', 'setup', '--url', url], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(words);
    expect(tenant.stats().tokenRequests).toBe(0);
    expect(tenant.logStreamRequests()).toHaveLength(0);
  });
});
