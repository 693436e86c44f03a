/**
 * Every route behind the shared JSON parser answers a body it cannot read
 * with a 4xx that says what is wrong, never a 500 logged as the service's
 * own failure. The app in-process, over HTTP on loopback.
 */
import type { Server } from 'node:http';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { CapturingLogger, MemoryStore } from '../support/fakes';

const ADMIN = 'bodies-admin-token-0123456789abcdef';
const env = { AUTH0_DOMAIN: 't.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'client-secret-value', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '1', ADMIN_TOKEN: ADMIN };
let server: Server;
let base: string;
const log = new CapturingLogger();

beforeAll(async () => {
  const config = loadConfig(env);
  const store = new MemoryStore();
  const app = createApp({ scope: () => ({ config: () => config, store, log, createDeps: () => { throw new Error('no runs here'); }, runOptions: {} }) });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function reset(body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: { error?: { code?: string; message?: string } } }> {
  const res = await fetch(`${base}/reset`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, json: (await res.json()) as { error?: { code?: string; message?: string } } };
}

describe('a request body the JSON parser refuses', () => {
  it.each([
    ['not JSON', 400, '{"checkpoint": ', {}, 'BAD_REQUEST', /not valid JSON/],
    ['over 64 KB', 413, JSON.stringify({ checkpoint: 'x'.repeat(70_000) }), {}, 'BODY_TOO_LARGE', /larger than 64kb/],
    ['in a charset other than UTF-8', 415, '{}', { 'content-type': 'application/json; charset=koi8-z' }, 'UNSUPPORTED_MEDIA_TYPE', /UTF-8/],
    ['with an unknown Content-Encoding', 415, '{}', { 'content-encoding': 'br2' }, 'UNSUPPORTED_MEDIA_TYPE', /Content-Encoding/],
  ])('%s: answered %i with a message, and not logged as a failure of ours', async (_what, status, body, headers, code, message) => {
    const before = log.lines.length;
    const answer = await reset(body, headers);
    expect(answer.status).toBe(status);
    expect(answer.json.error).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(log.lines.slice(before)).toEqual([]);
  });

  it('does not echo what the caller sent', async () => {
    const answer = await reset('{}', { 'content-type': 'application/json; charset=<script>x</script>' });
    expect(answer.status).toBe(415);
    expect(JSON.stringify(answer.json)).not.toContain('script');
  });
});
