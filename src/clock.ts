import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from './ports';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => delay(Math.max(0, ms)).then(() => undefined),
};
