import { PendingTakeBacks } from '../../src/stages/take-back';
import { CapturingLogger, logId, MemoryStore } from '../support/fakes';

describe('PendingTakeBacks', () => {
  it('records a waiting range once when the service interval and a run start flush at the same time', async () => {
    const store = new MemoryStore();
    const log = new CapturingLogger();
    const pending = new PendingTakeBacks(log);
    pending.add({ after: logId(20), through: logId(25) });

    await Promise.all([pending.flush(store), pending.flush(store)]);

    expect(store.writes).toBe(1);
    expect(store.state.reship).toEqual({ after: logId(20), through: logId(25) });
    expect(log.lines.filter((l) => l.startsWith('info pending take-back recorded'))).toHaveLength(1);
    expect(pending.size).toBe(0);
  });
});
