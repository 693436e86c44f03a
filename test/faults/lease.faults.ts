/**
 * Promise: a run that lost its lease writes nothing more. A CLI run on
 * SQLite is frozen with SIGSTOP in the middle of a drain, past its lease's
 * expiry (LEASE_SECONDS=2); a second run takes the lease over and advances
 * the checkpoint; then the first is resumed with SIGCONT. The first must stop
 * at its next write or renewal, report LEASE_LOST (exit 1), leave the
 * checkpoint as the second run moved it, and the two together must deliver
 * every event, shipping at most one page twice: the page the frozen run had
 * in flight.
 */
import { checkDelivery } from '../support/delivery';
import { compareIds } from '../support/events';
import { recordFigures, RANK, stopwatch } from './support/figures';
import { until, useHarness } from './support/harness';
import { deliveryColumns, eventsOf } from './support/received';
import { readState, sampleCheckpoints, tryReadState } from './support/state';

const EVENTS = 5_000;
const BATCH_SIZE = 100;
/** PAGES_PER_SHIPMENT=1 (set below): a shipment is one page, the bound this promise is stated in. */
const SHIPMENT = BATCH_SIZE;

const h = useHarness();

describe('a frozen lease holder', () => {
  it('resumed after another run took over, writes nothing, reports LEASE_LOST, and nothing is lost or shipped twice beyond one page', async () => {
    const elapsed = stopwatch();
    // 10 ms per request keeps the first run mid-drain long enough to be frozen there.
    const tenant = await h.tenant({ count: EVENTS, latencyMs: 10 });
    const receiver = await h.receiver();
    const env = h.env(tenant, receiver, { BATCH_SIZE: String(BATCH_SIZE), LEASE_SECONDS: '2', PAGES_PER_SHIPMENT: '1' });
    const checkpoints = sampleCheckpoints(env.STORAGE_FILE);

    const first = h.cli(['run'], env);
    await until('the first run to save a checkpoint', () => (tryReadState(env.STORAGE_FILE)?.checkpoint ?? null) !== null, 30_000, 5);
    first.child.kill('SIGSTOP');
    const frozen = readState(env.STORAGE_FILE);
    expect(frozen.lease).not.toBeNull();
    const frozenCheckpoint = frozen.checkpoint as string;
    // Past the lease's expiry, as the frozen run last renewed it.
    await until('the frozen run\'s lease to expire', () => Date.now() > (readState(env.STORAGE_FILE).lease?.expiresAt ?? 0) + 100, 10_000);

    const second = h.cli(['run'], env);
    await until('the second run to advance the checkpoint', () => compareIds(tryReadState(env.STORAGE_FILE)?.checkpoint ?? '0', frozenCheckpoint) > 0, 30_000, 5);
    const overtaken = readState(env.STORAGE_FILE);
    first.child.kill('SIGCONT');

    const [firstResult, secondResult] = await Promise.all([first.done, second.done]);
    const history = checkpoints.stop();
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    const state = readState(env.STORAGE_FILE);
    recordFigures({
      scenario: 'a CLI run frozen (SIGSTOP) past its lease, resumed after another took over',
      rank: RANK.lease,
      ...deliveryColumns(figures),
      runs: 2,
      wallMs: elapsed(),
      notes: `frozen at checkpoint +${eventsUpTo(tenant, frozenCheckpoint)}, resumed at +${eventsUpTo(tenant, overtaken.checkpoint as string)}; first run: ${String(firstResult.report?.['status'])}`,
    });

    expect(firstResult.code).toBe(1);
    expect(firstResult.report).toMatchObject({ status: 'lease-lost', stoppedBy: 'lease-lost', error: { code: 'LEASE_LOST' } });
    // Its report keeps the last checkpoint it saved itself: it moved nothing after the freeze.
    expect(firstResult.report?.['checkpoint']).toBe(frozenCheckpoint);
    expect(firstResult.stderr).toMatch(/run stopped: LEASE_LOST/);
    expect(secondResult.code).toBe(0);
    expect(secondResult.report).toMatchObject({ status: 'ok', stoppedBy: 'caught-up', startCheckpoint: frozenCheckpoint });
    // The checkpoint only ever moved forward, and ended where the second run left it.
    expect(history.regressions).toEqual([]);
    expect(state.checkpoint).toBe(tenant.lastId());
    expect(state.leaseGeneration).toBe(2);
    expect(state.lease).toBeNull();
    // Both runs are in the history; the first one's record is all it wrote after the freeze.
    expect(state.runs.map((r) => r.status).sort()).toEqual(['lease-lost', 'ok']);
    expect(figures).toMatchObject({ expected: EVENTS, delivered: EVENTS, missing: 0, outOfOrder: expect.any(Number), malformed: 0 });
    expect(figures.duplicates).toBeLessThanOrEqual(SHIPMENT);
  }, 120_000);
});

/** How many of the tenant's events are at or before `id`. */
function eventsUpTo(tenant: { size(): number; idAt(i: number): string }, id: string): number {
  let n = 0;
  while (n < tenant.size() && compareIds(tenant.idAt(n), id) <= 0) n++;
  return n;
}
