/**
 * Promise: when Auth0 answers with something that is not a page of logs, or
 * refuses read:logs, the run fails with an error naming the cause (exit 1),
 * ships nothing and leaves the checkpoint where it was; once Auth0 is
 * healthy again the next run delivers everything, each event exactly once.
 *
 * Each fault is met mid-life: a first healthy run has set a checkpoint, new
 * events have arrived, and then the fault is switched on.
 */
import { checkDelivery } from '../support/delivery';
import type { TenantFault } from '../support/fake-tenant';
import { recordFigures, RANK, stopwatch } from './support/figures';
import { useHarness } from './support/harness';
import { deliveryColumns, eventsOf } from './support/received';
import { readState } from './support/state';

const FIRST = 300;
const LATER = 300;
const h = useHarness();

const FAULTS: ReadonlyArray<{ fault: Exclude<TenantFault, null>; what: string; code: string; cause: RegExp }> = [
  { fault: 'malformed-json', what: 'malformed JSON', code: 'AUTH0_BAD_RESPONSE', cause: /answered 200 with a body that is not JSON/ },
  { fault: 'html', what: 'an HTML error page', code: 'AUTH0_BAD_RESPONSE', cause: /not JSON \(text\/html/ },
  { fault: 'non-array', what: 'a body that is not an array', code: 'AUTH0_BAD_RESPONSE', cause: /JSON that is not an array of logs/ },
  { fault: 'missing-log-id', what: 'an event without log_id', code: 'AUTH0_BAD_RESPONSE', cause: /entry \d+ without a log_id/ },
  { fault: 'forbidden', what: '403 on read:logs', code: 'AUTH0_FORBIDDEN', cause: /answered 403.*read:logs/ },
];

describe('Auth0 answers that are not a page of logs', () => {
  it.each(FAULTS)('$what: exit 1 naming the cause, nothing shipped, checkpoint unchanged; after the fault clears every event arrives exactly once', async ({ fault, what, code, cause }) => {
    const elapsed = stopwatch();
    const tenant = await h.tenant({ count: FIRST });
    const receiver = await h.receiver();
    const env = h.env(tenant, receiver);
    const healthy = await h.run(env);
    expect(healthy.code).toBe(0);
    const checkpoint = readState(env.STORAGE_FILE).checkpoint;
    const shippedBefore = (await receiver.messages()).length;

    tenant.append(LATER);
    tenant.setFault(fault);
    const faulted = await h.run(env);
    const shippedDuringFault = (await receiver.messages()).length - shippedBefore;
    const checkpointAfterFault = readState(env.STORAGE_FILE).checkpoint;

    tenant.setFault(null);
    const recovered = await h.run(env);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    const error = faulted.report?.['error'] as { code?: string; message?: string } | undefined;
    recordFigures({
      scenario: `Auth0 answers ${what}`,
      rank: RANK.badResponses,
      ...deliveryColumns(figures),
      runs: 3,
      wallMs: elapsed(),
      notes: `exit ${String(faulted.code)}, ${String(error?.code)}: ${(error?.message ?? '').replace(/^Auth0 \/api\/v2\/logs /, '').slice(0, 60)}…`,
    });

    expect(faulted.code).toBe(1);
    expect(faulted.report).toMatchObject({ status: 'failed', exported: 0, error: { code } });
    expect(error?.message).toMatch(cause);
    expect(faulted.stderr).toMatch(cause);
    expect(shippedDuringFault).toBe(0);
    expect(checkpointAfterFault).toBe(checkpoint);
    expect(readState(env.STORAGE_FILE).runs.map((r) => r.status)).toEqual(['ok', 'failed', 'ok']);
    expect(recovered.code).toBe(0);
    expect(recovered.report).toMatchObject({ status: 'ok', startCheckpoint: checkpoint, exported: LATER });
    expect(figures).toMatchObject({ expected: FIRST + LATER, delivered: FIRST + LATER, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
  });
});
