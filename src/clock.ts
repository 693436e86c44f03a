import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from './ports';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(Math.max(0, ms), undefined, signal ? { signal } : {});
    } catch (error) {
      // Node rejects with its own AbortError; callers expect the reason they aborted with.
      signal?.throwIfAborted();
      throw error;
    }
  },
};
