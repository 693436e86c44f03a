/**
 * What the shared app answers callers who get something wrong: a body the
 * JSON parser cannot read gets a 4xx that says what is wrong, never a 500
 * logged as the service's own failure; an unknown endpoint, or the log
 * stream's while it is off, gets a JSON 404 that says where to look. The
 * app in-process, over HTTP on loopback.
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
  // As serve builds it without LOG_STREAM_TOKEN: the stream's route is there, and off.
  const app = createApp({ scope: () => ({ config: () => config, store, log, createDeps: () => { throw new Error('no runs here'); }, runOptions: {} }), logStream: { stream: undefined, log } });
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

describe('an endpoint that is not there', () => {
  it('POST /log-stream without LOG_STREAM_TOKEN: 404 LOG_STREAM_OFF, saying how to turn it on', async () => {
    const res = await fetch(`${base}/log-stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'LOG_STREAM_OFF', message: expect.stringMatching(/LOG_STREAM_TOKEN/) } });
  });

  it('an unknown path: a JSON 404 pointing at the list of endpoints, which names the real ones', async () => {
    const res = await fetch(`${base}/no-such-thing`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const index = (await (await fetch(`${base}/`, { headers: { accept: 'application/json' } })).json()) as { endpoints: string[] };
    expect(index.endpoints).toEqual(expect.arrayContaining(['POST /run', 'GET /health']));
    // No log stream here, so it is not listed.
    expect(index.endpoints).not.toContain('POST /log-stream');
  });
});
