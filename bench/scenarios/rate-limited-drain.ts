/**
 * Scenario 3, rate-limited drain: a tenant whose logs endpoint allows a burst
 * of B requests and refills R per second, and a CLI run that drains its
 * backlog to the end. The ceiling is what the rate limit lets through in the
 * run's wall time, from spawn to exit (start-up and exit count):
 * PAGE × (B + R × seconds) logs. A good exporter starts quickly, spends the
 * whole bucket, meets no 429 it cannot handle, and delivers every event once.
 *
 * A run must make one request more than the backlog's pages (the empty page
 * that says it is caught up), so even a client with no start-up at all stays
 * a little under 100 %: the "best possible" row.
 */
import { checkDelivery } from '../../test/support/delivery';
import { runMeasuredCli, type CliRun } from '../lib/cli';
import { PAGE } from '../lib/options';
import { withReceiver } from '../lib/receiver';
import { row, type ScenarioResult } from '../lib/report';
import { summarize } from '../lib/stats';
import { eventsOf, withTenant } from '../lib/tenant';
import type { RateLimitShape } from '../lib/options';
import type { Context } from './context';

interface Measurement {
  run: Omit<CliRun, 'stderrTail'>;
  windowSeconds: number;
  exported: number;
  ceilingLogs: number;
  percentOfCeiling: number;
  /** Against the ceiling of the run's own time (its report's durationMs): leaves out process start-up and exit. */
  percentOfRunCeiling: number;
  /** Wall time from spawn to exit minus the run's own time: process start-up and exit. */
  startExitSeconds: number;
  logsPerMinute: number;
  ceilingPerMinute: number;
  logsRequests: number;
  responses429: number;
  failed: boolean;
  /** Events at or before the checkpoint that were missing or arrived twice, plus any shipped past it. */
  undelivered: number;
}

export async function rateLimitedDrain(ctx: Context): Promise<ScenarioResult> {
  const rows = [];
  const failures: string[] = [];
  const details: Record<string, Measurement[]> = {};
  for (const shape of ctx.options.rateLimit) {
    const result = await drainAtShape(ctx, shape, failures);
    rows.push(...result.rows);
    details[shape.plan] = result.runs;
  }
  return { name: 'ratelimit', rows, details, failures };
}

async function drainAtShape(ctx: Context, shape: RateLimitShape, failures: string[]): Promise<{ rows: ReturnType<typeof row>[]; runs: Measurement[] }> {
  const { burst, refillPerSecond, backlog } = shape;
  const runs: Measurement[] = [];

  for (let r = 0; r < ctx.options.runs; r++) {
    const label = `rate limit ${shape.plan} run ${r + 1}/${ctx.options.runs}`;
    // A fresh tenant per run: every run starts with a full bucket.
    const measured = await withTenant(ctx.cert, { count: backlog, rateLimit: { limit: burst, refillPerSecond } }, (tenant) =>
      withReceiver(ctx.root, ctx.cert, async (receiver) => {
        const run = await runMeasuredCli(tenant, receiver.port, { MAX_RUN_SECONDS: '3600' });
        const stats = tenant.stats();
        const report = run.report;
        const failed = run.code !== 0 || report?.status !== 'ok';
        if (failed) failures.push(`${label}: CLI exit ${run.code ?? run.signal}, report ${JSON.stringify(report)}; stderr: ${run.stderrTail.slice(-500)}`);
        const exported = report?.exported ?? 0;

        // The run starts at the oldest event, so the checkpoint must be the id of event `fetched - 1`.
        const fetched = report?.fetched ?? 0;
        const checkpointOk = fetched === 0 ? report?.checkpoint !== undefined : report?.checkpoint === tenant.idAt(fetched - 1);
        const delivery = checkDelivery(eventsOf(tenant, fetched), await receiver.rsyslog.messages());
        const undelivered = delivery.missing + delivery.duplicates + delivery.malformed;
        if (!checkpointOk || undelivered > 0) {
          failures.push(`${label}: checkpoint ${report?.checkpoint ?? 'none'} after ${fetched} fetched; ${delivery.missing} missing, ${delivery.duplicates} duplicates, ${delivery.malformed} malformed or past the checkpoint`);
        }
        if (exported !== backlog) failures.push(`${label}: exported ${exported} of the backlog of ${backlog}`);

        const windowSeconds = run.wallMs / 1000;
        const ceilingLogs = PAGE * (burst + refillPerSecond * windowSeconds);
        const responses429 = stats.logsResponses[429] ?? 0;
        ctx.progress(`${label}: ${exported} exported in ${windowSeconds.toFixed(1)} s = ${((100 * exported) / ceilingLogs).toFixed(1)} % of the ceiling, ${responses429} × 429, stopped by ${report?.stoppedBy ?? '?'}`);
        const { stderrTail: _stderr, ...kept } = run;
        return {
          run: kept,
          windowSeconds,
          exported,
          ceilingLogs,
          percentOfCeiling: (100 * exported) / ceilingLogs,
          percentOfRunCeiling: (100 * exported) / (PAGE * (burst + refillPerSecond * ((report?.durationMs ?? Number.NaN) / 1000))),
          startExitSeconds: (run.wallMs - (report?.durationMs ?? Number.NaN)) / 1000,
          logsPerMinute: (exported / windowSeconds) * 60,
          ceilingPerMinute: (ceilingLogs / windowSeconds) * 60,
          logsRequests: stats.logsRequests,
          responses429,
          failed,
          undelivered,
        };
      }),
    );
    runs.push(measured);
  }

  const of = (pick: (m: Measurement) => number) => summarize(runs.map(pick));
  const rate = refillPerSecond >= 10 ? `${refillPerSecond} req/s` : `${Math.round(refillPerSecond * 60)} req/min`;
  const name = `rate-limited drain, ${shape.plan} (burst ${burst}, ${rate}, backlog ${backlog.toLocaleString('en-US')} drained)`;
  // The fewest requests a drain can make: every page, and the empty one that says it is caught up.
  const best = (100 * backlog) / (PAGE * (Math.ceil(backlog / PAGE) + 1));
  const rows = [
    row(name, 'exported', 'logs/min', of((m) => m.logsPerMinute)),
    row(name, `ceiling: ${PAGE} × (burst + refill × wall time)`, 'logs/min', of((m) => m.ceilingPerMinute)),
    row(name, 'exported ÷ ceiling (from spawn to exit)', '%', of((m) => m.percentOfCeiling), { op: '>=', value: 99, on: 'median' }),
    row(name, 'best possible: backlog ÷ (pages + the empty page) with no start-up', '%', summarize([best])),
    row(name, 'exported ÷ ceiling of the run\'s own time (without process start-up and exit)', '%', of((m) => m.percentOfRunCeiling)),
    row(name, 'run wall time', 's', of((m) => m.windowSeconds)),
    row(name, 'process start-up and exit (wall time − the run\'s own)', 's', of((m) => m.startExitSeconds)),
    row(name, '429 responses (all retried)', 'count', of((m) => m.responses429)),
    row(name, 'runs that failed on a 429', 'count', of((m) => (m.failed && m.responses429 > 0 ? 1 : 0)), { op: '<=', value: 0, on: 'worst' }),
    row(name, 'failed runs', 'count', of((m) => (m.failed ? 1 : 0)), { op: '<=', value: 0, on: 'worst' }),
    row(name, 'events up to the checkpoint not delivered once', 'count', of((m) => m.undelivered), { op: '<=', value: 0, on: 'worst' }),
  ];
  return { rows, runs };
}
