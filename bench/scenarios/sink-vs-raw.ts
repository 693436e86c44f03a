/**
 * Scenario 1, sink vs raw: the cost of the sink's delivery guarantee (one
 * connection per page, confirmed by a clean close) against the raw speed of
 * one TLS connection, on the same bytes and the same receiver.
 */
import { lineIdAt } from '../lib/lines';
import { checkOutput, deliveredExactlyOnce } from '../lib/output-lines';
import { withReceiver } from '../lib/receiver';
import { row, type ScenarioResult } from '../lib/report';
import { summarize } from '../lib/stats';
import { runWorker } from '../lib/worker';
import type { ShipLinesInput, ShipLinesOutput } from '../workers/ship-lines';
import { rotated, type Context } from './context';

type Variant = 'raw' | 'sink' | 'sinkLargePages';

interface Measurement extends ShipLinesOutput {
  variant: Variant;
  pageSize: number;
  linesPerSecond: number;
  receiverCpuMicros: number | undefined;
}

export async function sinkVsRaw(ctx: Context): Promise<ScenarioResult> {
  const { lines, pageSizes } = ctx.options.sink;
  const [page, largePage] = pageSizes;
  const variants: { variant: Variant; mode: 'raw' | 'sink'; pageSize: number }[] = [
    { variant: 'raw', mode: 'raw', pageSize: page },
    { variant: 'sink', mode: 'sink', pageSize: page },
    { variant: 'sinkLargePages', mode: 'sink', pageSize: largePage },
  ];
  const runs: Record<Variant, Measurement>[] = [];
  const failures: string[] = [];

  for (let r = 0; r < ctx.options.runs; r++) {
    const measured: Partial<Record<Variant, Measurement>> = {};
    for (const { variant, mode, pageSize } of rotated(variants, r)) {
      measured[variant] = await withReceiver(ctx.root, ctx.cert, async (receiver) => {
        const cpuBefore = receiver.cpuMicros();
        const input: ShipLinesInput = { mode, lines, pageSize, port: receiver.port, outDir: receiver.outDir };
        const out = await runWorker<ShipLinesOutput>('ship-lines', input, { caFile: ctx.cert.caFile });
        const cpuAfter = receiver.cpuMicros();
        const check = await checkOutput(receiver.outDir, lines, lineIdAt);
        if (!deliveredExactlyOnce(check)) failures.push(`sink vs raw, run ${r + 1}, ${variant}: ${JSON.stringify(check)}`);
        const linesPerSecond = out.lines / (out.receivedMs / 1000);
        ctx.progress(`sink vs raw, run ${r + 1}/${ctx.options.runs}: ${mode} pages of ${pageSize}: ${Math.round(linesPerSecond)} lines/s`);
        return {
          ...out,
          variant,
          pageSize,
          linesPerSecond,
          receiverCpuMicros: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
        };
      });
    }
    runs.push(measured as Record<Variant, Measurement>);
  }

  const of = (variant: Variant, pick: (m: Measurement) => number) => summarize(runs.map((run) => pick(run[variant])));
  const perLine = (micros: number | undefined, m: Measurement): number => (micros ?? Number.NaN) / m.lines;
  const name = `sink vs raw (${lines.toLocaleString('en-US')} lines, ${Math.round((runs[0]?.raw.bytes ?? 0) / lines)} B)`;
  const rows = [
    row(name, 'raw TLS, one connection', 'lines/s', of('raw', (m) => m.linesPerSecond)),
    row(name, `TlsSyslogSink, pages of ${page}`, 'lines/s', of('sink', (m) => m.linesPerSecond)),
    row(name, `TlsSyslogSink, pages of ${largePage}`, 'lines/s', of('sinkLargePages', (m) => m.linesPerSecond)),
    row(name, `sink (${page}) ÷ raw`, '%', summarize(runs.map((run) => (100 * run.sink.linesPerSecond) / run.raw.linesPerSecond)), { op: '>=', value: 70, on: 'median' }),
    row(name, `sink (${largePage}) ÷ raw`, '%', summarize(runs.map((run) => (100 * run.sinkLargePages.linesPerSecond) / run.raw.linesPerSecond))),
    row(name, `sink (${page}): time per page`, 'ms', of('sink', (m) => m.receivedMs / m.pages)),
    row(name, 'sender CPU, raw', 'µs/line', of('raw', (m) => m.cpuMicros / m.lines)),
    row(name, `sender CPU, sink (${page})`, 'µs/line', of('sink', (m) => m.cpuMicros / m.lines)),
    row(name, 'rsyslogd CPU, raw', 'µs/line', of('raw', (m) => perLine(m.receiverCpuMicros, m))),
    row(name, `rsyslogd CPU, sink (${page})`, 'µs/line', of('sink', (m) => perLine(m.receiverCpuMicros, m))),
  ];
  return { name: 'sink', rows, details: { runs }, failures };
}
