import type { RateLimitStatus } from '../../src/auth0/management-api-client';
import { RunInProgressError } from '../../src/errors';
import { follow, idleDelayMs, type FollowDeps } from '../../src/follow';
import type { ExportResult } from '../../src/run-export';
import { appendRun, type RunRecord } from '../../src/storage/state';

import { CapturingLogger, FakeClock } from '../support/fakes';

/** README: the state keeps the last 100 runs. */
const RUN_HISTORY_LIMIT = 100;

const POLL_MS = 5_000;

function result(overrides: Partial<ExportResult> = {}): ExportResult {
  return {
    status: 'ok', startedAt: '', finishedAt: '', durationMs: 10, startSource: 'checkpoint', startCheckpoint: null, checkpoint: null,
    fetched: 0, exported: 0, filteredOut: 0, truncated: 0, pages: 0, stoppedBy: 'caught-up', lagSeconds: null, warnings: [],
    runId: 'r', trigger: 'follow', ...overrides,
  };
}

/** Follows a scripted sequence of runs, recording when each started; stops after the script. */
async function followScript(script: (() => ExportResult)[], options: { rateLimit?: () => RateLimitStatus | null; paused?: () => boolean; onNextPoll?: (at: number | null) => void } = {}) {
  const clock = new FakeClock();
  const log = new CapturingLogger();
  const stop = new AbortController();
  const startedAt: number[] = [];
  const t0 = clock.now();
  let i = 0;
  const deps: FollowDeps = {
    run: async () => {
      const next = script[i++];
      startedAt.push(clock.now() - t0);
      if (i >= script.length) stop.abort();
      if (next === undefined) throw new Error('script over');
      return next();
    },
    isPaused: async () => options.paused?.() ?? false,
    rateLimit: options.rateLimit ?? (() => null),
    clock,
    log,
    ...(options.onNextPoll ? { onNextPoll: options.onNextPoll } : {}),
  };
  await follow(deps, POLL_MS, stop.signal);
  return { startedAt, log };
}

const status = (limit: number, remaining: number, refillPerSecond: number | null, at = Date.parse('2026-11-23T12:00:00.000Z')): RateLimitStatus => ({
  limit, remaining, resetAt: at + 1000, at, refillPerSecond,
});

describe('follow mode', () => {
  it('runs back to back while behind, then polls every POLL_INTERVAL_SECONDS once caught up', async () => {
    const { startedAt } = await followScript([
      () => result({ stoppedBy: 'deadline', fetched: 5000 }),
      () => result({ stoppedBy: 'rate-limit', fetched: 3000 }),
      () => result({ stoppedBy: 'caught-up', fetched: 120 }),
      () => result(),
      () => result(),
    ]);
    expect(startedAt).toEqual([0, 0, 0, POLL_MS, 2 * POLL_MS]);
  });

  it('retries a failed run after the poll interval, doubling while it keeps failing, and resets after a success', async () => {
    const failed = () => result({ status: 'failed', stoppedBy: 'error', error: { name: 'SinkError', code: 'SINK_UNREACHABLE', message: 'down', retriable: true } });
    const { startedAt, log } = await followScript([failed, failed, failed, () => result(), () => result()]);
    expect(startedAt).toEqual([0, POLL_MS, 3 * POLL_MS, 7 * POLL_MS, 8 * POLL_MS]);
    expect(log.lines.filter((l) => l.startsWith('error follow: run failed (SINK_UNREACHABLE)'))).toHaveLength(3);
  });

  it('polls again later when another run holds the lease', async () => {
    const { startedAt } = await followScript([() => { throw new RunInProgressError('held'); }, () => result()]);
    expect(startedAt).toEqual([0, POLL_MS]);
  });

  it('keeps following when the state cannot be read, reporting it, so one bad read never ends follow mode', async () => {
    const { startedAt, log } = await followScript([() => result(), () => result()], { paused: () => { throw new Error('state file is not valid JSON'); } });
    expect(startedAt).toEqual([0, POLL_MS]);
    expect(log.lines.filter((l) => l.includes('cannot read the state'))).toHaveLength(2);
  });

  it('tells when the next poll is due, for /health, and that none is due while a poll runs', async () => {
    const told: (number | null)[] = [];
    await followScript([() => result({ stoppedBy: 'deadline' }), () => result(), () => result()], { onNextPoll: (at) => told.push(at) });
    const t0 = Date.parse('2026-11-23T12:00:00.000Z');
    expect(told).toEqual([null, null, t0 + POLL_MS, null]);
  });

  it('makes no run while paused', async () => {
    let checks = 0;
    const { startedAt } = await followScript([() => result()], { paused: () => ++checks <= 3 });
    expect(startedAt).toEqual([3 * POLL_MS]);
  });

  it('keeps idle polls out of a bucket that is below half full until the measured refill brings it back', async () => {
    // Essentials: 10 tokens, 100/min. Another client left 2; 3 more are needed, at 0.6 s each.
    const { startedAt, log } = await followScript([() => result(), () => result()], { rateLimit: () => status(10, 2, 100 / 60) });
    expect(startedAt[1]).toBe(5_000);
    const late = await followScript([() => result(), () => result()], { rateLimit: () => status(10, 0, 100 / 60) });
    expect(late.startedAt[1]).toBe(5_000);
    const drained = await followScript([() => result(), () => result()], { rateLimit: () => status(50, 2, 0.5) });
    // 23 tokens at 0.5/s: 46 s.
    expect(drained.startedAt[1]).toBe(46_000);
    expect(drained.log.lines.join('\n')).toContain('below half');
    expect(log.lines.join('\n')).not.toContain('below half');
  });
});

describe('idleDelayMs, the idle polling budget', () => {
  const now = Date.parse('2026-11-23T12:00:00.000Z');

  it('is the poll interval when the bucket is at least half full and the interval keeps within the share', () => {
    expect(idleDelayMs(POLL_MS, status(10, 9, 100 / 60), now).ms).toBe(POLL_MS);
    expect(idleDelayMs(POLL_MS, status(50, 49, 16), now).ms).toBe(POLL_MS);
    expect(idleDelayMs(POLL_MS, null, now).ms).toBe(POLL_MS);
  });

  it('never takes more than its share of the measured refill', () => {
    // 0.1 token/s: a 25 % share is one request per 40 s.
    const { ms, why } = idleDelayMs(POLL_MS, status(10, 9, 0.1), now);
    // README: never more than 25 % of the refill rate.
    expect(ms).toBe(Math.ceil(1000 / (0.25 * 0.1)));
    expect(why).toContain('25 %');
  });

  it('waits a minute for a bucket below half when the refill rate is not known yet', () => {
    expect(idleDelayMs(POLL_MS, status(10, 1, null), now).ms).toBe(60_000);
  });

  it.each([
    ['the Essentials limit (10, 100/min)', 10, 100 / 60],
    ['a slow bucket (10, one token a minute), where polling every interval would empty it', 10, 1 / 60],
  ])('over a day of idle polling at %s, leaves the bucket at least half full and takes at most 25 %% of its refill', (_name, limit, rate) => {
    // Simulate the bucket with only our idle polls spending it.
    let level = limit;
    let lowest = level;
    let polls = 0;
    const day = 86_400_000;
    for (let t = 0; t < day; ) {
      level -= 1;
      polls++;
      lowest = Math.min(lowest, level);
      const wait = idleDelayMs(POLL_MS, status(limit, Math.floor(level), rate, t), t).ms;
      level = Math.min(limit, level + (wait / 1000) * rate);
      t += wait;
    }
    // README: "never more than 25 % of the refill rate … no idle poll at all while the bucket is less than half full".
    expect(lowest).toBeGreaterThanOrEqual(limit / 2);
    expect(polls).toBeLessThanOrEqual(Math.ceil(0.25 * rate * (day / 1000)) + 1);
  });
});

describe('appendRun', () => {
  const record = (id: string, fetched: number, trigger = 'follow'): RunRecord => ({ ...result({ fetched, trigger, startedAt: `s-${id}`, finishedAt: `f-${id}` }), id, stoppedBy: 'caught-up' }) as RunRecord;

  it('folds consecutive idle polls into one record, keeping the runs that shipped something', () => {
    let runs: RunRecord[] = [];
    runs = appendRun(runs, record('busy', 300), true);
    for (let i = 0; i < 500; i++) runs = appendRun(runs, record(`idle${i}`, 0), true);
    runs = appendRun(runs, record('busy2', 20), true);
    runs = appendRun(runs, record('idleA', 0), true);
    expect(runs.map((r) => [r.id, r.idlePolls])).toEqual([['busy', undefined], ['idle0', 500], ['busy2', undefined], ['idleA', undefined]]);
    expect(runs[1]).toMatchObject({ startedAt: 's-idle0', finishedAt: 'f-idle499', durationMs: 500 * 10 });
  });

  it('keeps every run of a cron schedule, up to the history limit', () => {
    let runs: RunRecord[] = [];
    for (let i = 0; i < RUN_HISTORY_LIMIT + 5; i++) runs = appendRun(runs, record(`r${i}`, 0, 'schedule'), false);
    expect(runs).toHaveLength(RUN_HISTORY_LIMIT);
    expect(runs[0]?.id).toBe('r5');
  });
});

describe('follow mode settings', () => {
  it('selects follow mode with SCHEDULE=continuous, polling every 5 s unless POLL_INTERVAL_SECONDS says otherwise', async () => {
    const { loadServiceSettings, CONTINUOUS } = await import('../../src/serve');
    expect(loadServiceSettings({ SCHEDULE: 'Continuous' })).toMatchObject({ schedule: CONTINUOUS, pollIntervalMs: 5_000 });
    expect(loadServiceSettings({ SCHEDULE: 'continuous', POLL_INTERVAL_SECONDS: '30' })).toMatchObject({ pollIntervalMs: 30_000 });
  });

  it('refuses a poll interval that is not 1 to 3600 whole seconds, with the fix, alongside other bad settings', async () => {
    const { loadServiceSettings } = await import('../../src/serve');
    for (const bad of ['0', '2.5', 'five', '3601']) {
      expect(() => loadServiceSettings({ SCHEDULE: 'continuous', POLL_INTERVAL_SECONDS: bad })).toThrow(/POLL_INTERVAL_SECONDS[\s\S]*whole number of seconds/);
    }
    expect(() => loadServiceSettings({ SCHEDULE: 'sometimes', POLL_INTERVAL_SECONDS: '0' })).toThrow(/SCHEDULE[\s\S]*continuous[\s\S]*POLL_INTERVAL_SECONDS/);
  });
});
