/**
 * Scenario 4, backlog scaling: the CLI draining 10k, 100k and 1M events. A
 * pipeline that holds one page at a time has a flat cost per log and a peak
 * RSS that does not depend on the backlog; this shows whether it does.
 * Delivery is checked by streaming the receiver's output (1M events make ~2 GB).
 */
import { runMeasuredCli, type CliRun } from '../lib/cli';
import { checkOutput, deliveredExactlyOnce, type OutputCheck } from '../lib/output-lines';
import { withReceiver } from '../lib/receiver';
import { row, type Row, type ScenarioResult } from '../lib/report';
import { summarize, type Figure } from '../lib/stats';
import { withTenant } from '../lib/tenant';
import { MB, type Context } from './context';

interface Measurement {
  events: number;
  run: Omit<CliRun, 'stderrTail'>;
  logsPerSecond: number;
  cpuMicrosPerLog: number;
  peakRssMB: number;
  check: OutputCheck;
}

function sizeLabel(events: number): string {
  return events >= 1_000_000 ? `${events / 1_000_000}M` : `${events / 1000}k`;
}

/** A derived single value (a ratio of medians), shown as a one-run figure. */
function single(value: number): Figure {
  return summarize([value]);
}

export async function backlogScaling(ctx: Context): Promise<ScenarioResult> {
  const failures: string[] = [];
  const bySize: { events: number; runs: Measurement[] }[] = [];

  for (const { events, runs } of ctx.options.scaling) {
    const measured = await withTenant(ctx.cert, { count: events }, async (tenant) => {
      const out: Measurement[] = [];
      for (let r = 0; r < runs; r++) {
        const label = `scaling ${events.toLocaleString('en-US')} run ${r + 1}/${runs}`;
        out.push(
          await withReceiver(ctx.root, ctx.cert, async (receiver) => {
            const run = await runMeasuredCli(tenant, receiver.port, { MAX_RUN_SECONDS: '3600' });
            if (run.code !== 0 || run.report?.status !== 'ok' || run.report.exported !== events) {
              failures.push(`${label}: CLI exit ${run.code ?? run.signal}, report ${JSON.stringify(run.report)}; stderr: ${run.stderrTail.slice(-500)}`);
            }
            const check = await checkOutput(receiver.outDir, events, (i) => tenant.idAt(i));
            if (!deliveredExactlyOnce(check) || check.outOfOrder > 0) failures.push(`${label}: delivery ${JSON.stringify(check)}`);
            const logsPerSecond = events / (run.wallMs / 1000);
            ctx.progress(`${label}: ${Math.round(logsPerSecond)} logs/s, peak RSS ${((run.peakRssBytes ?? 0) / MB).toFixed(1)} MB, ${check.missing} missing, ${check.duplicates} duplicates`);
            const { stderrTail: _stderr, ...kept } = run;
            return {
              events,
              run: kept,
              logsPerSecond,
              cpuMicrosPerLog: (run.cpuMicros ?? Number.NaN) / events,
              peakRssMB: (run.peakRssBytes ?? Number.NaN) / MB,
              check,
            };
          }),
        );
      }
      return out;
    });
    bySize.push({ events, runs: measured });
  }

  const name = 'backlog scaling (CLI)';
  const rows: Row[] = [];
  for (const { events, runs } of bySize) {
    const of = (pick: (m: Measurement) => number) => summarize(runs.map(pick));
    const size = sizeLabel(events);
    rows.push(
      row(name, `${size}: wall time`, 's', of((m) => m.run.wallMs / 1000)),
      row(name, `${size}: throughput`, 'logs/s', of((m) => m.logsPerSecond)),
      row(name, `${size}: CPU`, 'µs/log', of((m) => m.cpuMicrosPerLog)),
      row(name, `${size}: peak RSS`, 'MB', of((m) => m.peakRssMB)),
    );
  }
  // The verdict compares the two largest backlogs: below ~100k events the CLI's heap is still
  // growing to its working size (RSS rises from ~65 to ~115 MB, then stays there), and start-up
  // CPU is spread over few logs. Largest ÷ smallest is shown too, for the whole range.
  const smallest = bySize[0];
  const previous = bySize[bySize.length - 2];
  const largest = bySize[bySize.length - 1];
  if (smallest !== undefined && previous !== undefined && largest !== undefined) {
    const median = (runs: Measurement[], pick: (m: Measurement) => number): number => summarize(runs.map(pick)).median;
    const ratio = (a: { runs: Measurement[] }, b: { runs: Measurement[] }, pick: (m: Measurement) => number): Figure => single(median(a.runs, pick) / median(b.runs, pick));
    // "Flat": the next backlog size (10× in the full profile) may cost at most 25 % more, room for noise on a shared machine.
    const flat = { op: '<=', value: 1.25, on: 'median' } as const;
    const cpu = (m: Measurement): number => m.cpuMicrosPerLog;
    const rss = (m: Measurement): number => m.peakRssMB;
    rows.push(
      row(name, `CPU per log, ${sizeLabel(largest.events)} ÷ ${sizeLabel(previous.events)}`, '×', ratio(largest, previous, cpu), flat),
      row(name, `peak RSS, ${sizeLabel(largest.events)} ÷ ${sizeLabel(previous.events)}`, '×', ratio(largest, previous, rss), flat),
    );
    if (smallest !== previous) {
      rows.push(
        row(name, `CPU per log, ${sizeLabel(largest.events)} ÷ ${sizeLabel(smallest.events)}`, '×', ratio(largest, smallest, cpu)),
        row(name, `peak RSS, ${sizeLabel(largest.events)} ÷ ${sizeLabel(smallest.events)}`, '×', ratio(largest, smallest, rss)),
      );
    }
  }
  return { name: 'scaling', rows, details: { bySize }, failures };
}
