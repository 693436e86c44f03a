/**
 * What to run, from the environment:
 *   BENCH_QUICK=1        smoke profile: small counts, 1 run
 *   BENCH_RUNS=N         runs per figure (default 3, or 1 with BENCH_QUICK)
 *   BENCH_SCENARIOS=a,b  any of sink, drain, ratelimit, scaling, state, stream, follow, privacy, coldstart (default: all)
 *   BENCH_FOLLOW_SECONDS=N  how long the follow-mode scenario runs (default 600, 30 with BENCH_QUICK)
 */
export const SCENARIOS = ['sink', 'drain', 'ratelimit', 'scaling', 'state', 'stream', 'follow', 'privacy', 'coldstart'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  quick: boolean;
  runs: number;
  scenarios: ScenarioName[];
  sink: { lines: number; pageSizes: readonly [number, number] };
  drain: { events: number };
  /** The plans' Read Logs shapes, each with a backlog drained to the end. */
  rateLimit: RateLimitShape[];
  follow: { seconds: number };
  /** One entry per backlog size; the largest gets a single run (it takes minutes). */
  scaling: { events: number; runs: number }[];
  /** Spawns of each command (node -e 0, --version, run without settings). */
  coldStart: { spawns: number };
  /** Events pushed through POST /log-stream as fast as 4 senders go, then seconds at a steady 300 events/s. */
  stream: { events: number; steadySeconds: number };
}

export interface RateLimitShape {
  plan: string;
  burst: number;
  refillPerSecond: number;
  backlog: number;
}

export class OptionsError extends Error {}

/** Logs per page: Auth0's maximum `take`, which the CLI uses by default. */
export const PAGE = 100;

export function readOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const quick = env['BENCH_QUICK'] === '1';
  const runs = parseRuns(env['BENCH_RUNS'], quick ? 1 : 3);
  const scenarios = parseScenarios(env['BENCH_SCENARIOS']);

  // Auth0's documented Read Logs limits, Essentials/Professional and Enterprise production, each with a
  // backlog that the run drains to the end (quick: a tenth): time from spawn to exit, start-up included.
  const shape = (plan: string, burst: number, refillPerSecond: number, backlog: number): RateLimitShape => ({
    plan,
    burst,
    refillPerSecond,
    backlog: quick ? backlog / 10 : backlog,
  });

  return {
    quick,
    runs,
    scenarios,
    sink: { lines: quick ? 10_000 : 100_000, pageSizes: [PAGE, 1000] },
    drain: { events: quick ? 10_000 : 100_000 },
    follow: { seconds: parseSeconds(env['BENCH_FOLLOW_SECONDS'], quick ? 30 : 600) },
    rateLimit: [shape('Essentials/Professional', 10, 100 / 60, 20_000), shape('Enterprise', 50, 16, 50_000)],
    coldStart: { spawns: quick ? 5 : 20 },
    stream: { events: quick ? 10_000 : 50_000, steadySeconds: quick ? 10 : 30 },
    scaling: quick
      ? [{ events: 2_000, runs }, { events: 10_000, runs }]
      : [{ events: 10_000, runs }, { events: 100_000, runs }, { events: 1_000_000, runs: 1 }],
  };
}

function parseSeconds(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d{1,5}$/.test(raw.trim()) || Number(raw) < 10) throw new OptionsError(`BENCH_FOLLOW_SECONDS must be a whole number of seconds, at least 10, got "${raw}".`);
  return Number(raw);
}

function parseRuns(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d{1,3}$/.test(raw.trim()) || Number(raw) < 1) throw new OptionsError(`BENCH_RUNS must be a whole number from 1 to 999, got "${raw}".`);
  return Number(raw);
}

function parseScenarios(raw: string | undefined): ScenarioName[] {
  if (raw === undefined || raw.trim() === '') return [...SCENARIOS];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new OptionsError(`BENCH_SCENARIOS: unknown ${unknown.join(', ') || '(empty)'}; choose from ${SCENARIOS.join(', ')}.`);
  }
  // Always in the canonical order, each once, so tables from different invocations line up.
  return SCENARIOS.filter((s) => names.includes(s));
}
