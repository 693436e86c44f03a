/**
 * /health after a run that lost its lease: that run stopped because another
 * run (another replica, or a CLI run) took the lease over, so its record says
 * nothing about whether exporting works; the run that took over does. The
 * alert rules count only failed runs, and /health must agree with them. The
 * app in-process, over HTTP on loopback, with a store holding the history.
 */
import type { Server } from 'node:http';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import type { StateDocument } from '../../src/storage/state';
import { CapturingLogger, MemoryStore } from '../support/fakes';

const env = { AUTH0_DOMAIN: 't.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'client-secret-value', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '1' };
type Run = StateDocument['runs'][number];
const run = (id: string, status: string, minute: number): Run =>
  ({ id, trigger: 'schedule', status, startedAt: `2026-01-01T00:0${minute}:00.000Z`, finishedAt: `2026-01-01T00:0${minute}:01.000Z`, exported: 0 }) as unknown as Run;

let server: Server;
let base: string;
const store = new MemoryStore();

beforeAll(async () => {
  const config = loadConfig(env);
  const app = createApp({ scope: () => ({ config: () => config, store, log: new CapturingLogger(), createDeps: () => { throw new Error('no runs here'); }, runOptions: {} }) });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function health(runs: Run[]): Promise<{ status: string; lastRunAt: string | null }> {
  store.state = { ...store.state, runs };
  return (await (await fetch(`${base}/health`)).json()) as { status: string; lastRunAt: string | null };
}

describe('GET /health after a run that lost its lease', () => {
  it('says ok when the run before it succeeded, while the run that took over is still going', async () => {
    expect(await health([run('r1', 'ok', 1), run('r2', 'lease-lost', 2)])).toMatchObject({ status: 'ok', lastRunAt: '2026-01-01T00:02:00.000Z' });
  });

  it('says failing when the last run that did not lose its lease failed', async () => {
    expect((await health([run('r1', 'failed', 1), run('r2', 'lease-lost', 2)])).status).toBe('failing');
    expect((await health([run('r1', 'lease-lost', 1), run('r2', 'failed', 2)])).status).toBe('failing');
  });

  it('says idle when no run has finished other than by losing its lease', async () => {
    expect((await health([run('r1', 'lease-lost', 1)])).status).toBe('idle');
  });
});
