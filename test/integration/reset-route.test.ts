/**
 * POST /reset is a deliberate replay: besides moving the checkpoint, it
 * empties the record of shipped ids, or the runs after it would skip what
 * they were asked to ship again. A reset refused (a run in progress) changes
 * nothing. The reset holds the run lease until the record is emptied. The
 * app in-process, over HTTP on loopback.
 */
import type { Server } from 'node:http';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { emptyState } from '../../src/storage/state';
import { CapturingLogger, logId, MemoryShippedIds, MemoryStore } from '../support/fakes';

const ADMIN = 'reset-admin-token-0123456789abcdef';
const env = { AUTH0_DOMAIN: 't.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'client-secret-value', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '1', ADMIN_TOKEN: ADMIN };
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function appWith(store: MemoryStore, shipped: MemoryShippedIds): Promise<(checkpoint: string | null) => Promise<number>> {
  const config = loadConfig(env);
  const app = createApp({ scope: () => ({ config: () => config, store, shipped, log: new CapturingLogger(), createDeps: () => { throw new Error('no runs here'); }, runOptions: {} }) });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/reset`;
  return async (checkpoint) => (await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ checkpoint }) })).status;
}

describe('POST /reset', () => {
  it('moves the checkpoint back and forgets every shipped id, so the replay ships them again', async () => {
    const store = new MemoryStore({ ...emptyState(), checkpoint: logId(30) });
    const shipped = new MemoryShippedIds();
    await shipped.record(Array.from({ length: 30 }, (_, i) => logId(i + 1)), Date.now());
    // While the record is emptied, the reset holds the run lease: no run can start in between and skip the replay.
    let leaseWhileForgetting: string | undefined;
    const prune = shipped.prune.bind(shipped);
    shipped.prune = async (before) => {
      leaseWhileForgetting = store.state.lease?.owner;
      return prune(before);
    };
    const reset = await appWith(store, shipped);
    expect(await reset(logId(10))).toBe(200);
    expect(store.state.checkpoint).toBe(logId(10));
    expect(shipped.shippedAt.size).toBe(0);
    expect(leaseWhileForgetting).toMatch(/^reset-\d+$/);
    expect(store.state.lease).toBeNull();
  });

  it('refused while a run holds the lease, forgets nothing', async () => {
    const store = new MemoryStore({ ...emptyState(), checkpoint: logId(30), lease: { owner: 'a run', expiresAt: Date.now() + 60_000 } });
    const shipped = new MemoryShippedIds();
    await shipped.record([logId(29), logId(30)], Date.now());
    const reset = await appWith(store, shipped);
    expect(await reset(logId(10))).toBe(409);
    expect(store.state.checkpoint).toBe(logId(30));
    expect(shipped.shippedAt.size).toBe(2);
  });
});
