import { parseRateLimit, RefillEstimate } from '../../src/auth0/rate-limit';

/** A token bucket as Auth0 describes it, read the way its headers report it. */
function bucket(limit: number, perSecond: number) {
  let level = limit;
  let at = 0;
  return {
    take(now: number): { limit: number; remaining: number; resetAt: number } {
      level = Math.min(limit, level + ((now - at) / 1000) * perSecond);
      at = now;
      level -= 1;
      const nextToken = now + ((Math.floor(level) + 1 - level) / perSecond) * 1000;
      return { limit, remaining: Math.max(0, Math.floor(level)), resetAt: Math.ceil(nextToken / 1000) * 1000 };
    },
  };
}

describe('RefillEstimate', () => {
  it('measures the refill rate of a drained bucket from the headers alone, erring on the slow side', () => {
    for (const [limit, perSecond] of [[50, 16], [10, 100 / 60]] as const) {
      const b = bucket(limit, perSecond);
      const estimate = new RefillEstimate();
      // Requests every 20 ms while the bucket lasts, then one per token.
      for (let now = 0; now < 20_000; now += 20) {
        const reading = b.take(now);
        estimate.observe(reading, now, true);
        if (reading.remaining === 0) now += 1000 / perSecond;
      }
      const rate = estimate.perSecond();
      expect(rate).not.toBeNull();
      expect(rate as number).toBeLessThanOrEqual(perSecond);
      expect(rate as number).toBeGreaterThan(perSecond * 0.85);
    }
  });

  it('knows nothing from a bucket that stays full, and falls back to the announced reset', () => {
    const estimate = new RefillEstimate();
    for (let now = 0; now < 5_000; now += 1000) estimate.observe({ limit: 10, remaining: 9, resetAt: now }, now, true);
    expect(estimate.perSecond()).toBeNull();
    expect(estimate.nextTokenAt({ limit: 10, remaining: 0, resetAt: 7_000 }, 6_100)).toBe(7_000);
  });

  it('asks again once the measured rate has added a token, well before the whole second Auth0 announces', () => {
    const b = bucket(50, 16);
    const estimate = new RefillEstimate();
    let reading = b.take(0);
    let now = 0;
    for (; reading.remaining > 0 || now < 3_000; now += reading.remaining > 0 ? 10 : 63) {
      reading = b.take(now);
      estimate.observe(reading, now, true);
    }
    const next = estimate.nextTokenAt(reading, now) as number;
    expect(next).toBeLessThanOrEqual(reading.resetAt);
    expect(next - now).toBeLessThanOrEqual(Math.ceil(1000 / 15));
  });

  it('forgets what it measured when a 429 says the bucket is shared with someone faster', () => {
    const estimate = new RefillEstimate();
    for (let now = 0, remaining = 5; now <= 2_000; now += 100) estimate.observe({ limit: 10, remaining: remaining, resetAt: now + 1000 }, now, true);
    // It had measured a rate, so what follows is a forgetting, not an estimate that never formed.
    expect(estimate.perSecond()).toBeCloseTo(19 / 2, 5);
    estimate.observe(parseRateLimit({ 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '3' }), 2_100, false);
    expect(estimate.perSecond()).toBeNull();
  });
});
