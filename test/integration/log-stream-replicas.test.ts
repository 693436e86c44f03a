/**
 * Two `serve` replicas behind one URL, sharing one PostgreSQL database,
 * receive one Auth0 log stream: each request (and each retry and
 * redelivery) goes to the next replica, and nothing is shipped twice.
 * Also the store's cross-process hold on its own.
 */
import { PostgresStateStore } from '../../src/storage/postgres-state-store';
import { checkDelivery } from '../support/delivery';
import { generateEvents } from '../support/events';
import { streamEvents } from '../support/log-stream-sender';
import { usePostgresServer } from '../support/postgres-server';
import { dayAgo, useHarness } from '../faults/support/harness';

const TOKEN = 'replica-stream-token-0123456789';
const h = useHarness();
const postgres = usePostgresServer();

describe('log stream into replicas sharing PostgreSQL', () => {
  it('holds an id in one process until the other releases it', async () => {
    const url = await postgres().createDatabase();
    const [a, b] = [new PostgresStateStore({ url }), new PostgresStateStore({ url })];
    try {
      await a.read();
      await b.read();
      await a.hold(['x', 'y']);
      let bHolds = false;
      const waiting = b.hold(['y', 'z']).then(() => (bHolds = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(bHolds).toBe(false);
      // Disjoint ids are not held up.
      await b.hold(['w']);
      a.release(['x', 'y']);
      await waiting;
      expect(bHolds).toBe(true);
      b.release(['y', 'z', 'w']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('ships 10,000 events exactly once when two replicas take turns receiving the stream, copies of a batch arriving at both at once', async () => {
    const start = dayAgo();
    const events = generateEvents(10_000, { start });
    const tenant = await h.tenant({ count: 0, start });
    const receiver = await h.receiver();
    const url = await postgres().createDatabase();
    const replicas = [];
    for (let i = 0; i < 2; i++) replicas.push(await h.serve(h.env(tenant, receiver, { STATE_URL: url, LOG_STREAM_TOKEN: TOKEN, LOG_STREAM_ONLY: 'true' })));
    const sent = await streamEvents(events, { url: replicas.map((r) => `${r.url}/log-stream`), authorization: `Bearer ${TOKEN}`, seed: 21, resendFraction: 0.1, parallelCopyFraction: 0.2, maxInFlight: 4 });
    const figures = checkDelivery(events, await receiver.messages());
    const health = await Promise.all(replicas.map(async (r) => ((await r.call('GET', '/health')).json as { logStream: Record<string, number> }).logStream));
    process.stdout.write(`2 replicas: ${figures.delivered} delivered, ${figures.duplicates} duplicates; ${sent.requests} requests, ${sent.resends} batches resent; skipped as already shipped ${health.map((x) => x['redeliveriesSkipped']).join('/')}\n`);
    expect(figures).toMatchObject({ expected: 10_000, delivered: 10_000, missing: 0, duplicates: 0, malformed: 0 });
    // Both replicas shipped, and redeliveries were skipped by the replica that had not shipped them too.
    expect(health.every((x) => (x['shipped'] ?? 0) > 0)).toBe(true);
    expect(health.every((x) => (x['redeliveriesSkipped'] ?? 0) > 0)).toBe(true);
    for (const r of replicas) expect((await r.stop()).code).toBe(0);
  }, 180_000);
});
