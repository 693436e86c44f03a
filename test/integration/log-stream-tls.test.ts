/**
 * `serve` speaking HTTPS itself (TLS_CERT_FILE / TLS_KEY_FILE), since Auth0
 * sends log streams only to trusted certificates; and a bad pair refused at
 * start with the other settings' problems.
 */
import { request } from 'node:https';
import { generateEvents } from '../support/events';
import { toStreamRecord } from '../support/log-stream-sender';
import { dayAgo, until, useHarness } from '../faults/support/harness';
import { logIdOf } from '../faults/support/received';

const TOKEN = 'tls-stream-token-0123456789abcdef';
const h = useHarness();

function postHttps(url: string, body: string, ca: string): Promise<{ status: number; text: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, agent: false, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      const authorized = (res.socket as import('node:tls').TLSSocket).authorized;
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, text, authorized }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('serve over HTTPS', () => {
  it('serves POST /log-stream over TLS with the certificate and key it is given', async () => {
    const start = dayAgo();
    const events = generateEvents(3, { start });
    const tenant = await h.tenant({ count: 0, start });
    const receiver = await h.receiver();
    const { server } = h.pki;
    const env = h.env(tenant, receiver, { LOG_STREAM_TOKEN: TOKEN, LOG_STREAM_ONLY: 'true', TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: server.keyFile, HOST: '127.0.0.1', PORT: '0' });
    const service = h.cli(['serve'], env);
    let stderr = '';
    service.child.stderr?.on('data', (c: string) => (stderr += c));
    await until('serve to listen', () => /serving on https:\/\/127\.0\.0\.1:\d+/.test(stderr), 20_000);
    const base = /serving on (https:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1] ?? '';
    const answer = await postHttps(`${base}/log-stream`, JSON.stringify(events.map(toStreamRecord)), server.ca);
    expect(answer).toMatchObject({ status: 200, authorized: true });
    expect((await receiver.messages()).map((m) => logIdOf(m))).toEqual(events.map((e) => e.log_id));
    // Plain HTTP gets no answer from a TLS listener.
    await expect(fetch(`${base.replace('https:', 'http:')}/log-stream`, { method: 'POST', body: '[]' })).rejects.toThrow();
    service.child.kill('SIGTERM');
    expect((await service.done).code).toBe(0);
  });

  it('refuses to start with half a pair or a key that does not match, listing every problem', async () => {
    const tenant = await h.tenant({ count: 0 });
    const receiver = await h.receiver();
    const { server, untrusted } = h.pki;
    const half = await h.cli(['serve'], h.env(tenant, receiver, { TLS_CERT_FILE: server.certFile, LOG_STREAM_TOKEN: 'short' })).done;
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/TLS_KEY_FILE: is not set while the other TLS file is/);
    expect(half.stderr).toMatch(/LOG_STREAM_TOKEN: is shorter than 16 characters/);
    const mismatched = await h.cli(['serve'], h.env(tenant, receiver, { TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: untrusted.keyFile })).done;
    expect(mismatched.code).toBe(2);
    expect(mismatched.stderr).toMatch(/TLS_CERT_FILE: and TLS_KEY_FILE do not make a certificate and key pair/);
    expect(mismatched.stderr).not.toContain('PRIVATE KEY');
    const missing = await h.cli(['serve'], h.env(tenant, receiver, { TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: '/nonexistent/key.pem', LOG_STREAM_ONLY: 'true' })).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/TLS_CERT_FILE: cannot be read \(ENOENT\)/);
    expect(missing.stderr).toMatch(/LOG_STREAM_ONLY: is true but LOG_STREAM_TOKEN is not set/);
  });
});
