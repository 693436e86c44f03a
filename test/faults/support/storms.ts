/**
 * 429 storms: bursts of another application spending the tenant's shared
 * rate-limit bucket (test/support/neighbour.ts), separated by quiet spells.
 *
 * Bursts rather than a steady neighbour, because a neighbour faster than the
 * bucket refills starves the exporter entirely, and one slower never empties
 * it. Each burst is a fresh neighbour with a fresh token, since with
 * short-lived tokens a long-lived neighbour would soon only get 401s, which
 * spend nothing.
 */
import type { FakeTenant } from '../../support/fake-tenant';
import { startNoisyNeighbour } from '../../support/neighbour';

export interface StormOptions {
  burstMs: number;
  quietMs: number;
  /** Interval between the neighbour's requests during a burst. */
  everyMs: number;
}

export function startRateLimitStorms(tenant: FakeTenant, options: StormOptions): { stop(): Promise<void>; bursts(): number } {
  let stopped = false;
  let bursts = 0;
  let current: { stop(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let starting: Promise<unknown> = Promise.resolve();

  const quiet = (): void => {
    void current?.stop();
    current = undefined;
    if (!stopped) timer = setTimeout(burst, options.quietMs);
  };
  const burst = (): void => {
    if (stopped) return;
    starting = startNoisyNeighbour(tenant, options.everyMs).then(
      (neighbour) => {
        if (stopped) {
          void neighbour.stop();
          return;
        }
        bursts++;
        current = neighbour;
        timer = setTimeout(quiet, options.burstMs);
      },
      // The tenant may be stopping; a burst that could not start is simply skipped.
      () => quiet(),
    );
  };
  burst();

  return {
    bursts: () => bursts,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await starting;
      current?.stop();
      current = undefined;
    },
  };
}
