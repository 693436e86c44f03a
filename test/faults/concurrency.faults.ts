/**
 * Promise: two runs triggered at once never overlap. One takes the run lease,
 * the other is refused (CLI: {"status":"skipped"} and exit 0; HTTP: 409), so
 * nothing is shipped twice and the stored checkpoint only ever moves forward.
 *
 * Pairs: two CLI processes; the service's cron POST and an admin's manual
 * POST; the same two against the extension under the webtask runtime. The
 * stored checkpoint is sampled every 10 ms throughout.
 */
import { checkDelivery, type DeliveryFigures } from '../support/delivery';
import { recordFigures, RANK, stopwatch } from './support/figures';
import { httpCall, useHarness, type HttpAnswer } from './support/harness';
import { deliveryColumns, eventsOf } from './support/received';
import { overlaps } from '../support/run-history';
import { readState, sampleCheckpoints, tryReadState, type CheckpointHistory } from './support/state';

/** Long enough (about 1-2 s with the latency below) that both triggers arrive while the first run holds the lease. */
const BACKLOG = 10_000;
const LATENCY_MS = 5;
const ADMIN_TOKEN = 'concurrency-admin-token-0123456789abcdef';
const CRON_RECORD = { name: 'auth0-logs-to-papertrail', container: 'tenant', state: 'active', schedule: '0 */5 * * * *', tz: 'UTC' };
const h = useHarness();

describe('two runs triggered at once', () => {
  it('CLI + CLI: one runs, the other is skipped; nothing shipped twice; the checkpoint never moves back', async () => {
    const elapsed = stopwatch();
    const tenant = await h.tenant({ count: BACKLOG, latencyMs: LATENCY_MS });
    const receiver = await h.receiver();
    const env = h.env(tenant, receiver);
    const checkpoints = sampleCheckpoints(env.STORAGE_FILE);
    const [a, b] = await Promise.all([h.run(env), h.run(env)]);
    const history = checkpoints.stop();
    const state = readState(env.STORAGE_FILE);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    record('two CLI runs at once', figures, elapsed(), `reports ${String(a.report?.['status'])} + ${String(b.report?.['status'])}`, history);

    expect([a.report?.['status'], b.report?.['status']].sort()).toEqual(['ok', 'skipped']);
    expect([a.code, b.code]).toEqual([0, 0]);
    const skipped = a.report?.['status'] === 'skipped' ? a : b;
    expect(skipped.report).toMatchObject({ error: { code: 'RUN_IN_PROGRESS' } });
    expect(state.runs).toHaveLength(1);
    expect(figures).toMatchObject({ expected: BACKLOG, delivered: BACKLOG, missing: 0, duplicates: 0, outOfOrder: 0 });
    expect(history.samples).toBeGreaterThan(10);
    expect(history.regressions).toEqual([]);
  }, 90_000);

  it('serve: a cron POST and a manual POST at once: one answers 200, the other 409; no overlap, nothing shipped twice', async () => {
    const elapsed = stopwatch();
    const tenant = await h.tenant({ count: BACKLOG, latencyMs: LATENCY_MS });
    const receiver = await h.receiver();
    // A schedule that does not fire during the test: only the two triggers run.
    const env = h.env(tenant, receiver, { ADMIN_TOKEN, SCHEDULE: '0 0 1 1 *' });
    const service = await h.serve(env);
    const checkpoints = sampleCheckpoints(env.STORAGE_FILE);
    const [cron, manual] = await Promise.all([
      service.call('POST', '/', { body: CRON_RECORD }),
      service.call('POST', '/run', { body: {}, token: ADMIN_TOKEN }),
    ]);
    const history = checkpoints.stop();
    const runs = await service.call('GET', '/runs', { token: ADMIN_TOKEN });
    await service.stop();
    const state = readState(env.STORAGE_FILE);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    record('serve: cron POST + manual POST at once', figures, elapsed(), `answers ${cron.status} + ${manual.status}`, history);

    expectOneRefused(cron, manual);
    expect((runs.json?.['runs'] as unknown[] | undefined)?.length).toBe(1);
    expect(overlaps(state.runs)).toEqual([]);
    expect(figures).toMatchObject({ expected: BACKLOG, delivered: BACKLOG, missing: 0, duplicates: 0, outOfOrder: 0 });
    expect(history.samples).toBeGreaterThan(10);
    expect(history.regressions).toEqual([]);
  }, 90_000);

  it('webtask: a cron POST and a manual POST at once: one answers 200, the other 409; no overlap, nothing shipped twice', async () => {
    const elapsed = stopwatch();
    const tenant = await h.tenant({ count: BACKLOG, latencyMs: LATENCY_MS });
    const receiver = await h.receiver();
    // Standalone-only settings are not webtask secrets; the host trusts the test CA instead.
    const { NODE_EXTRA_CA_CERTS: _ca, STORAGE_FILE: _file, ...secrets } = h.env(tenant, receiver);
    const host = await h.webtask({ ...secrets, ADMIN_TOKEN });
    // Webtask storage is rewritten in place; the sampler skips half-written reads.
    const checkpoints = sampleCheckpoints(host.storageFile);
    const [cron, manual] = await Promise.all([
      httpCall(`${host.url}/`, 'POST', { body: CRON_RECORD }),
      httpCall(`${host.url}/run`, 'POST', { body: {}, token: ADMIN_TOKEN }),
    ]);
    const history = checkpoints.stop();
    const state = tryReadState(host.storageFile);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    record('webtask: cron POST + manual POST at once', figures, elapsed(), `answers ${cron.status} + ${manual.status}`, history);

    expectOneRefused(cron, manual);
    expect(state?.runs).toHaveLength(1);
    expect(overlaps(state?.runs ?? [])).toEqual([]);
    expect(figures).toMatchObject({ expected: BACKLOG, delivered: BACKLOG, missing: 0, duplicates: 0, outOfOrder: 0 });
    expect(history.samples).toBeGreaterThan(10);
    expect(history.regressions).toEqual([]);
  }, 90_000);
});

/** Runs = the two triggers; the notes say which was refused and what the sampler saw. */
function record(scenario: string, figures: DeliveryFigures, wallMs: number, outcome: string, history: CheckpointHistory): void {
  recordFigures({
    scenario,
    rank: RANK.concurrency,
    ...deliveryColumns(figures),
    runs: 2,
    wallMs,
    notes: `${outcome}; checkpoint sampled ${history.samples} times, ${history.regressions.length} regressions`,
  });
}

function expectOneRefused(cron: HttpAnswer, manual: HttpAnswer): void {
  expect([cron.status, manual.status].sort()).toEqual([200, 409]);
  const refused = cron.status === 409 ? cron : manual;
  expect(refused.json).toMatchObject({ status: 'skipped' });
}
