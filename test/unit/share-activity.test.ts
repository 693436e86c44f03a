import { StreamActivity } from '../../src/log-stream/activity';
import { ActivitySharing } from '../../src/log-stream/share-activity';
import type { StateDocument } from '../../src/storage/state';
import { CapturingLogger } from '../support/fakes';

const oneDelivery = { records: 1, exported: 1, filteredOut: 0, alreadyShipped: 0, repeatedInRequest: 0, withoutLogId: 0 };

describe('ActivitySharing', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('writes nothing more to the store once closed, even when its last write failed', async () => {
    const now = () => Date.parse('2026-11-23T12:00:00.000Z');
    let writes = 0;
    const store = {
      update: async (): Promise<StateDocument> => {
        writes++;
        throw new Error('the state store is closed');
      },
    };
    const activity = new StreamActivity('hybrid', 60_000, now);
    const sharing = new ActivitySharing(activity, { store, now, log: new CapturingLogger() });
    activity.delivered(oneDelivery);
    sharing.delivered();
    await sharing.close();
    const writesAtClose = writes;

    // A failed write would be retried a second later; after close the store is gone, so none may come.
    await jest.advanceTimersByTimeAsync(10_000);
    expect(writes).toBe(writesAtClose);
  });
});
