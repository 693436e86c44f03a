/**
 * Who may read GET /metrics: METRICS_TOKEN or ADMIN_TOKEN when either is set,
 * anyone when neither is (as for GET /runs). The app in-process, over HTTP.
 */
import type { Server } from 'node:http';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { PrometheusMetrics } from '../../src/metrics/prometheus-metrics';
import { CapturingLogger, MemoryStore } from '../support/fakes';

const ADMIN = 'access-admin-token-0123456789abcdef';
const METRICS = 'access-metrics-token-fedcba987654';
const base = { AUTH0_DOMAIN: 't.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'client-secret-value', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '1' };
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serveWith(adminToken: string | null, metricsToken: string | null): Promise<(token?: string) => Promise<number>> {
  const config = loadConfig({ ...base, ...(adminToken === null ? {} : { ADMIN_TOKEN: adminToken }) });
  const metrics = new PrometheusMetrics();
  const store = new MemoryStore();
  const app = createApp({
    scope: () => ({ config: () => config, store, log: new CapturingLogger(), createDeps: () => { throw new Error('no runs here'); }, runOptions: {} }),
    metrics: { exposition: () => metrics.exposition(), token: metricsToken },
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  const { port } = server.address() as { port: number };
  return async (token) => (await fetch(`http://127.0.0.1:${port}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })).status;
}

describe('GET /metrics access', () => {
  it('is open when neither token is set', async () => {
    const get = await serveWith(null, null);
    expect(await get()).toBe(200);
  });

  it('needs the admin token when only ADMIN_TOKEN is set', async () => {
    const get = await serveWith(ADMIN, null);
    expect([await get(), await get(METRICS), await get(ADMIN)]).toEqual([401, 401, 200]);
  });

  it('takes METRICS_TOKEN or the admin token when METRICS_TOKEN is set', async () => {
    const get = await serveWith(null, METRICS);
    expect([await get(), await get('wrong-token-wrong-token'), await get(METRICS)]).toEqual([401, 401, 200]);
    const both = await serveWith(ADMIN, METRICS);
    expect([await both(), await both(METRICS), await both(ADMIN)]).toEqual([401, 200, 200]);
  });
});
