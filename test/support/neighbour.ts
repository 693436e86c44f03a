/**
 * Another application on the same tenant, spending the shared rate-limit
 * bucket: the realistic way an exporter meets a 429 it could not foresee
 * from its own x-ratelimit-remaining.
 */
import https from 'node:https';
import type { FakeTenant } from './fake-tenant';

function request(tenant: FakeTenant, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${tenant.url}${path}`, { method, headers, ca: tenant.ca }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface NoisyNeighbour {
  /** Stops and waits for its requests in flight, so the tenant's counts are final. */
  stop(): Promise<void>;
  /** The neighbour's own answers by status, to tell them from the exporter's in the tenant's counts. */
  responses(): Record<number, number>;
}

export async function startNoisyNeighbour(tenant: FakeTenant, everyMs: number): Promise<NoisyNeighbour> {
  const tokenBody = JSON.stringify({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret, audience: tenant.audience });
  const { body } = await request(tenant, 'POST', '/oauth/token', { 'content-type': 'application/json' }, tokenBody);
  const token = (JSON.parse(body) as { access_token: string }).access_token;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const responses: Record<number, number> = {};
  const timer = setInterval(() => {
    if (stopped) return;
    const done = request(tenant, 'GET', `/api/v2/logs?from=${tenant.idAt(0)}&take=1`, { authorization: `Bearer ${token}` }).then(
      ({ status }) => {
        responses[status] = (responses[status] ?? 0) + 1;
      },
      () => undefined,
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  }, everyMs);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inFlight]);
    },
    responses: () => ({ ...responses }),
  };
}
