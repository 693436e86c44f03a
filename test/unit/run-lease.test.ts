import { RunLease } from '../../src/storage/run-lease';
import { emptyState, takeLease } from '../../src/storage/state';
import { CapturingLogger, FakeClock, MemoryStore } from '../support/fakes';

/** Resolves once `condition` holds, checking after each turn of the event loop. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('RunLease', () => {
  it('lets a renewal already in flight settle before stop resolves, so the released lease stays released', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore(takeLease(emptyState(), 'this-run', clock.now() + 300));
    // The renewal's transaction waits (a slow database) until the test opens the gate.
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let started = 0;
    let settled = 0;
    const update = store.update.bind(store);
    store.update = async (change) => {
      if (++started === 1) await gate;
      try {
        return await update(change);
      } finally {
        settled++;
      }
    };
    const lease = new RunLease({ store, clock, log: new CapturingLogger(), owner: 'this-run', generation: 1, ttlMs: 300 }, clock.now() + 300);
    lease.start();
    await until(() => started === 1);

    // As runExport does: stop the lease, then release it in the state.
    const released = Promise.resolve(lease.stop()).then(() => store.update((state) => ({ ...state, lease: null })));
    await new Promise((resolve) => setImmediate(resolve));
    openGate();
    await released;
    await until(() => settled === 2);

    expect(store.state.lease).toBeNull();
    expect(store.state.leaseGeneration).toBe(1);
  });
});
