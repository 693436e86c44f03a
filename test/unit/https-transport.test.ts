/**
 * The HTTPS transport must work inside a process whose `https.request` was
 * replaced by a two-argument `(options, callback)` wrapper, as wt-cli's
 * `wt serve` does through agent-base@4's patch-core.js. The wrapper below is
 * that patch's logic; it wraps a shim that adds the test CA, because this
 * process's trust store cannot be changed after start.
 */
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { parse as parseUrl } from 'node:url';
import { createHttpsTransport, requestTarget } from '../../src/auth0/http';
import { createTestPki } from '../support/certs';

const pki = createTestPki();
const original = https.request;
let server: https.Server;
let base: URL;
const seen: string[] = [];

beforeAll(async () => {
  server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, url: req.url, body, auth: req.headers['authorization'] ?? null }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  https.request = original;
});

/** What the host's trust store would do: trust the test CA. Not part of the patch under test. */
function trustTestCa(): void {
  const request = https.request;
  https.request = ((options: https.RequestOptions, callback?: (res: unknown) => void) => request({ ...options, ca: pki.server.ca }, callback as never)) as typeof https.request;
}

/** agent-base@4 patch-core.js: https.request becomes (options, cb); a string first argument is parsed as the options. */
function applyAgentBasePatch(): string[] {
  const calls: string[] = [];
  const request = https.request;
  https.request = function patched(_options: unknown, cb?: unknown) {
    calls.push(typeof cb);
    const options: Record<string, unknown> = typeof _options === 'string' ? { ...parseUrl(_options) } : Object.assign({}, _options);
    if (options['port'] === null || options['port'] === undefined) options['port'] = 443;
    options['secureEndpoint'] = true;
    return (request as (o: unknown, c: unknown) => ReturnType<typeof https.request>).call(https, options, cb);
  } as typeof https.request;
  return calls;
}

describe('the HTTPS transport', () => {
  it('sends method, path, query, headers and body to the server and returns its answer', async () => {
    trustTestCa();
    const transport = createHttpsTransport();
    try {
      const res = await transport({ method: 'POST', url: new URL('/oauth/token?x=1', base), headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{"a":1}', timeoutMs: 5_000 });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ method: 'POST', url: '/oauth/token?x=1', body: '{"a":1}', auth: 'Bearer t' });
    } finally {
      transport.close();
    }
  });

  it('works when https.request has been replaced process-wide by a two-argument (options, callback) wrapper', async () => {
    trustTestCa();
    const calls = applyAgentBasePatch();
    const transport = createHttpsTransport();
    try {
      const res = await transport({ method: 'GET', url: new URL('/api/v2/logs?from=900&take=100', base), headers: { authorization: 'Bearer tok' }, timeoutMs: 5_000 });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ method: 'GET', url: '/api/v2/logs?from=900&take=100', auth: 'Bearer tok' });
      // The wrapper was really in the path, and was handed a callback as its second argument.
      expect(calls).toEqual(['function']);
    } finally {
      transport.close();
    }
  });

  it('still verifies the certificate under such a wrapper', async () => {
    applyAgentBasePatch(); // no test CA: the server's certificate is untrusted
    const transport = createHttpsTransport();
    try {
      await expect(transport({ method: 'GET', url: new URL('/x', base), timeoutMs: 5_000 })).rejects.toMatchObject({ code: expect.stringMatching(/CERT|SIGNATURE|ISSUER/) });
    } finally {
      transport.close();
    }
  });
});

describe('requestTarget', () => {
  it('spells out host, port and path, so nothing depends on how a wrapper reads a URL', () => {
    expect(requestTarget(new URL('https://tenant.auth0.com/api/v2/logs?from=1&take=2'))).toEqual({ protocol: 'https:', hostname: 'tenant.auth0.com', port: 443, path: '/api/v2/logs?from=1&take=2' });
    expect(requestTarget(new URL('https://[::1]:8443/oauth/token'))).toEqual({ protocol: 'https:', hostname: '::1', port: 8443, path: '/oauth/token' });
    expect(() => requestTarget(new URL('http://tenant.auth0.com/'))).toThrow(/https/);
  });
});
