/**
 * Follow mode (`SCHEDULE=continuous`): `serve` keeps the export running
 * instead of waiting for a cron tick, so an event reaches Papertrail seconds
 * after Auth0 logs it.
 *
 * - While behind (a run stopped at its deadline or at the rate limit), the
 *   next run starts at once: back to back.
 * - Once caught up, the next poll comes POLL_INTERVAL_SECONDS later.
 * - Each poll is an ordinary run: same lease, same history (idle polls fold
 *   into one record per idle stretch, see `appendRun`), same shutdown.
 * - A failed run is retried after the poll interval, doubling up to 5 minutes
 *   while it keeps failing.
 *
 * The Read Logs bucket is shared with every other Management API client of
 * the tenant, so idle polling budgets itself from the x-ratelimit-* headers of
 * the last response (see `idleDelayMs`): it takes at most one request per poll
 * interval and at most IDLE_SHARE of the refill rate measured from the headers,
 * and it makes no idle poll while the bucket is less than half full.
 */
import type { RateLimitStatus } from './auth0/management-api-client';
import type { Config } from './config';
import { RunInProgressError } from './errors';
import type { Clock, Logger, Metrics, ShippedIds, StateStore } from './ports';
import { runExport, type ExportResult, type RunOptions } from './run-export';
import { createAdapters, createSink } from './runtime/compose';

/** The largest share of the bucket's refill rate that idle polls may take. */
export const IDLE_SHARE = 0.25;
/** Below this fraction of its size, the bucket is left alone by idle polls until it refills. */
export const IDLE_RESERVE = 0.5;
/** How long an idle poll waits for a bucket below the reserve when the refill rate is not known yet. */
const UNKNOWN_REFILL_WAIT_MS = 60_000;
const MAX_FAILURE_WAIT_MS = 5 * 60_000;

export interface FollowDeps {
  /** One export run; throws RunInProgressError when another run holds the lease. */
  run(): Promise<ExportResult>;
  isPaused(): Promise<boolean>;
  /** What the last Auth0 response said about the logs bucket; null before the first. */
  rateLimit(): RateLimitStatus | null;
  clock: Clock;
  log: Logger;
  /** Told when the next poll is due (epoch ms) before each wait, and null when a poll starts. */
  onNextPoll?: (at: number | null) => void;
}

/**
 * How long to wait before polling again once caught up. Pure, so the budget
 * can be tested exhaustively.
 */
export function idleDelayMs(pollIntervalMs: number, status: RateLimitStatus | null, now: number): { ms: number; why: string | null } {
  if (status === null || status.limit === null || status.remaining === null) return { ms: pollIntervalMs, why: null };
  const rate = status.refillPerSecond;
  let ms = pollIntervalMs;
  let why: string | null = null;
  if (rate !== null && rate > 0) {
    const shareMs = Math.ceil(1000 / (IDLE_SHARE * rate));
    if (shareMs > ms) {
      ms = shareMs;
      why = `idle polls keep to ${IDLE_SHARE * 100} % of the bucket's refill (${rate.toFixed(2)}/s)`;
    }
  }
  const reserve = Math.ceil(status.limit * IDLE_RESERVE);
  if (status.remaining < reserve) {
    const untilReserve = rate !== null && rate > 0 ? status.at + Math.ceil(((reserve - status.remaining) / rate) * 1000) - now : UNKNOWN_REFILL_WAIT_MS;
    if (untilReserve > ms) {
      ms = untilReserve;
      why = `the rate-limit bucket is below half (${status.remaining} of ${status.limit} left); idle polls wait for it to refill`;
    }
  }
  return { ms, why };
}

/** Runs until `signal` fires; resolves once the run in progress (if any) has finished. */
export async function follow(deps: FollowDeps, pollIntervalMs: number, signal: AbortSignal): Promise<void> {
  const { clock, log } = deps;
  let failures = 0;
  let pausedNoted = false;
  while (!signal.aborted) {
    let wait = pollIntervalMs;
    let paused: boolean;
    try {
      paused = await deps.isPaused();
    } catch (error) {
      // An unreadable state file fails the run too; the loop goes on and says so each time.
      log.error(`follow: cannot read the state: ${error instanceof Error ? error.message : String(error)}`);
      paused = false;
    }
    if (paused) {
      if (!pausedNoted) log.info('follow: paused; polling resumes when resumed');
      pausedNoted = true;
    } else {
      pausedNoted = false;
      deps.onNextPoll?.(null);
      try {
        const result = await deps.run();
        if (result.status !== 'ok') {
          failures++;
          wait = Math.min(MAX_FAILURE_WAIT_MS, pollIntervalMs * 2 ** (failures - 1));
          log.error(`follow: run failed (${result.error?.code ?? 'unknown'}); next attempt in ${Math.round(wait / 1000)} s`);
        } else {
          failures = 0;
          if (result.stoppedBy === 'caught-up') {
            const idle = idleDelayMs(pollIntervalMs, deps.rateLimit(), clock.now());
            wait = idle.ms;
            if (idle.why !== null) log.info(`follow: next poll in ${Math.round(wait / 1000)} s: ${idle.why}`);
          } else {
            // Behind: the next run continues at once (the client itself waits for the rate limit).
            wait = 0;
          }
        }
      } catch (error) {
        if (error instanceof RunInProgressError) log.info('follow: another run holds the lease; polling again later');
        else log.error(`follow: run failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (wait > 0 && !signal.aborted) {
      deps.onNextPoll?.(clock.now() + wait);
      try {
        await clock.sleep(wait, signal);
      } catch {
        // aborted: the loop ends
      }
    }
  }
}

export interface FollowServiceOptions {
  config: Config;
  store: StateStore;
  /** The record of shipped ids the standalone stores keep. */
  shipped?: ShippedIds;
  metrics?: Metrics;
  log: Logger;
  clock: Clock;
  pollIntervalMs: number;
  runOptions: Omit<RunOptions, 'trigger' | 'summariseIdle'>;
  signal: AbortSignal;
  onNextPoll?: (at: number | null) => void;
}

/**
 * Follow mode as `serve` runs it. One Auth0 client lives across polls, so its
 * token is reused and its rate-limit reading budgets the idle polls; each poll
 * gets a sink of its own, which the run closes.
 */
export async function followService(options: FollowServiceOptions): Promise<void> {
  const { config, store, log, clock } = options;
  const adapters = createAdapters(config, { store, ...(options.shipped ? { shipped: options.shipped } : {}), ...(options.metrics ? { metrics: options.metrics } : {}), log, clock });
  try {
    await follow(
      {
        run: () => runExport({ ...adapters.deps, sink: createSink(config, clock, options.metrics) }, config, { ...options.runOptions, trigger: 'follow', summariseIdle: true }),
        isPaused: async () => (await store.read()).paused,
        rateLimit: () => adapters.rateLimit(),
        clock,
        log,
        ...(options.onNextPoll ? { onNextPoll: options.onNextPoll } : {}),
      },
      options.pollIntervalMs,
      options.signal,
    );
  } finally {
    adapters.dispose();
  }
}
