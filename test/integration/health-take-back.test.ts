/**
 * /health while pages in doubt wait to be shipped again. A take-back that no
 * run could write (the state store refused every attempt) is kept in the
 * service's memory and retried; meanwhile /health must not say `ok`, and
 * must name the range. Once the retry writes it, the range is recorded in the
 * state (still waiting, now for the next run of any replica); once that run
 * has taken it up, /health is `ok` again. The app in-process, over HTTP on
 * loopback, with the service's retry queue and a store that refuses writes
 * on demand; /metrics' gauge of ranges waiting, wired as serve wires it.
 */
import type { Server } from 'node:http';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import type { StateDocument } from '../../src/storage/state';
import { PrometheusMetrics } from '../../src/metrics/prometheus-metrics';
import { PendingTakeBacks, rangesWaiting, reshipFirst } from '../../src/stages/take-back';
import { CapturingLogger, MemoryStore } from '../support/fakes';

const env = { AUTH0_DOMAIN: 't.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'client-secret-value', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '1' };

/** A store whose writes fail while `refusing`, as a database that cannot be reached for writing. */
class RefusingStore extends MemoryStore {
  refusing = false;
  override async update(change: (current: StateDocument) => StateDocument): Promise<StateDocument> {
    if (this.refusing) throw new Error('read ECONNRESET');
    return super.update(change);
  }
}

interface HealthBody {
  status: string;
  reshipPending?: { after: string; through: string };
  takeBackPending?: { after: string; through: string }[];
}

let server: Server;
let base: string;
const log = new CapturingLogger();
const store = new RefusingStore();
const pending = new PendingTakeBacks(log);
const metrics = new PrometheusMetrics();
metrics.watchReship(() => rangesWaiting(store, pending));
const gauge = async (): Promise<string | undefined> =>
  (await metrics.exposition()).body.split('\n').find((line) => line.startsWith('auth0_papertrail_reship_pending_ranges '));
const RANGE = { after: '90020260101000000000000000000000000000000000000000', through: '90020260101000000000000000000000000000000000000500' };

beforeAll(async () => {
  const config = loadConfig(env);
  // The last run succeeded and then some time passed: a healthy service to start from.
  const ok = { id: 'r1', trigger: 'schedule', status: 'ok', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z', exported: 500 };
  store.state = { ...store.state, runs: [ok as unknown as StateDocument['runs'][number]], lastSuccessAt: '2026-01-01T00:00:01.000Z' };
  const app = createApp({ scope: () => ({ config: () => config, store, log, createDeps: () => { throw new Error('no runs here'); }, runOptions: { pendingTakeBacks: pending } }) });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function health(): Promise<HealthBody> {
  const res = await fetch(`${base}/health`);
  expect(res.status).toBe(200);
  return (await res.json()) as HealthBody;
}

describe('/health while a take-back waits to be written', () => {
  it('is not ok, and names the range, until the retry writes it and the next run takes it up', async () => {
    expect((await health()).status).toBe('ok');
    expect(await gauge()).toBe('auth0_papertrail_reship_pending_ranges 0');

    // A run's take-back failed on every attempt: the service keeps it, as runExport does with a pending report.
    store.refusing = true;
    pending.add(RANGE);
    let body = await health();
    expect(body.status).toBe('reship-pending');
    expect(body.takeBackPending).toEqual([RANGE]);
    expect(body.reshipPending).toBeUndefined();
    expect(await gauge()).toBe('auth0_papertrail_reship_pending_ranges 1');

    // The retry fails too: still waiting, still said.
    await pending.flush(store);
    body = await health();
    expect(body.status).toBe('reship-pending');
    expect(body.takeBackPending).toEqual([RANGE]);

    // The retry is written: the range is now recorded in the state, for the next run of any replica.
    store.refusing = false;
    await pending.flush(store);
    body = await health();
    expect(body.status).toBe('reship-pending');
    expect(body.takeBackPending).toBeUndefined();
    expect(body.reshipPending).toEqual(RANGE);
    expect(await gauge()).toBe('auth0_papertrail_reship_pending_ranges 1');

    // The next run ships the range first (it takes it from the state) and succeeds: ok again.
    expect(await reshipFirst(store, await store.read())).toEqual(RANGE);
    body = await health();
    expect(body.status).toBe('ok');
    expect(body.takeBackPending).toBeUndefined();
    expect(body.reshipPending).toBeUndefined();
    expect(await gauge()).toBe('auth0_papertrail_reship_pending_ranges 0');
  });
});
