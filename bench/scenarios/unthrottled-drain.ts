/**
 * Scenario 2, unthrottled drain: the real CLI exporting a backlog from a
 * tenant with no latency and no rate limit, against the physical baseline (a
 * plain fetch loop writing to one raw TLS connection, workers/raw-drain.ts)
 * on the same tenant and receiver. Every CLI run's delivery is checked event
 * by event with checkDelivery.
 */
import { bootstrapCheckpoint } from '../../src/auth0/checkpoint-id';
import { checkDelivery, type DeliveryFigures } from '../../test/support/delivery';
import type { TenantEvent } from '../../test/support/events';
import type { FakeTenant } from '../../test/support/fake-tenant';
import { runMeasuredCli, type CliRun } from '../lib/cli';
import { PAGE } from '../lib/options';
import { checkOutput, deliveredExactlyOnce, type OutputCheck } from '../lib/output-lines';
import { withReceiver } from '../lib/receiver';
import { row, type ScenarioResult } from '../lib/report';
import { summarize } from '../lib/stats';
import { eventsOf, withTenant } from '../lib/tenant';
import { runWorker } from '../lib/worker';
import type { RawDrainInput, RawDrainOutput } from '../workers/raw-drain';
import { MB, rotated, type Context } from './context';

interface CliMeasurement extends Omit<CliRun, 'stderrTail'> {
  logsPerSecond: number;
  receiverCpuMicros: number | undefined;
  /** CPU of this process (the simulated tenant) during the run. */
  tenantCpuMicros: number;
  delivery: Omit<DeliveryFigures, 'missingIds' | 'problems'> & { problems: string[] };
}

interface RawMeasurement extends RawDrainOutput {
  logsPerSecond: number;
  receiverCpuMicros: number | undefined;
  tenantCpuMicros: number;
  check: OutputCheck;
}

function cpuSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

async function measureCli(ctx: Context, tenant: FakeTenant, expected: readonly TenantEvent[], failures: string[], label: string): Promise<CliMeasurement> {
  return withReceiver(ctx.root, ctx.cert, async (receiver) => {
    const receiverBefore = receiver.cpuMicros();
    const tenantBefore = process.cpuUsage();
    const run = await runMeasuredCli(tenant, receiver.port, { MAX_RUN_SECONDS: '3600' });
    const tenantCpuMicros = cpuSince(tenantBefore);
    const receiverAfter = receiver.cpuMicros();
    if (run.code !== 0 || run.report?.status !== 'ok' || run.report.exported !== expected.length) {
      failures.push(`${label}: CLI exit ${run.code ?? run.signal}, report ${JSON.stringify(run.report)}; stderr: ${run.stderrTail.slice(-500)}`);
    }
    const figures = checkDelivery(expected, await receiver.rsyslog.messages());
    const { missingIds, ...delivery } = figures;
    if (figures.missing > 0 || figures.duplicates > 0 || figures.malformed > 0 || figures.outOfOrder > 0) {
      failures.push(`${label}: ${figures.missing} missing (e.g. ${missingIds.slice(0, 3).join(', ')}), ${figures.duplicates} duplicates, ${figures.malformed} malformed, ${figures.outOfOrder} out of order`);
    }
    const logsPerSecond = expected.length / (run.wallMs / 1000);
    ctx.progress(`${label}: CLI ${Math.round(logsPerSecond)} logs/s, ${figures.missing} missing, ${figures.duplicates} duplicates`);
    const { stderrTail: _stderr, ...kept } = run;
    return {
      ...kept,
      logsPerSecond,
      tenantCpuMicros,
      receiverCpuMicros: receiverBefore === undefined || receiverAfter === undefined ? undefined : receiverAfter - receiverBefore,
      delivery,
    };
  });
}

async function measureRaw(ctx: Context, tenant: FakeTenant, failures: string[], label: string): Promise<RawMeasurement> {
  return withReceiver(ctx.root, ctx.cert, async (receiver) => {
    const receiverBefore = receiver.cpuMicros();
    const tenantBefore = process.cpuUsage();
    const input: RawDrainInput = {
      tenantUrl: tenant.url,
      audience: tenant.audience,
      clientId: tenant.clientId,
      clientSecret: tenant.clientSecret,
      from: bootstrapCheckpoint(Date.now()),
      take: PAGE,
      port: receiver.port,
      outDir: receiver.outDir,
    };
    const out = await runWorker<RawDrainOutput>('raw-drain', input, { caFile: ctx.cert.caFile });
    const tenantCpuMicros = cpuSince(tenantBefore);
    const receiverAfter = receiver.cpuMicros();
    const check = await checkOutput(receiver.outDir, tenant.size(), (i) => tenant.idAt(i));
    // The baseline must have moved the same events, or it is no baseline.
    if (!deliveredExactlyOnce(check)) failures.push(`${label}: raw baseline delivery ${JSON.stringify(check)}`);
    const logsPerSecond = out.events / (out.receivedMs / 1000);
    ctx.progress(`${label}: raw baseline ${Math.round(logsPerSecond)} logs/s`);
    return {
      ...out,
      logsPerSecond,
      tenantCpuMicros,
      receiverCpuMicros: receiverBefore === undefined || receiverAfter === undefined ? undefined : receiverAfter - receiverBefore,
      check,
    };
  });
}

export async function unthrottledDrain(ctx: Context): Promise<ScenarioResult> {
  const count = ctx.options.drain.events;
  const failures: string[] = [];
  const runs = await withTenant(ctx.cert, { count }, async (tenant) => {
    const expected = eventsOf(tenant);
    const measured: { cli: CliMeasurement; raw: RawMeasurement }[] = [];
    for (let r = 0; r < ctx.options.runs; r++) {
      const label = `drain run ${r + 1}/${ctx.options.runs}`;
      let cli: CliMeasurement | undefined;
      let raw: RawMeasurement | undefined;
      for (const which of rotated(['cli', 'raw'] as const, r)) {
        if (which === 'cli') cli = await measureCli(ctx, tenant, expected, failures, label);
        else raw = await measureRaw(ctx, tenant, failures, label);
      }
      if (cli === undefined || raw === undefined) throw new Error('unreachable: both variants run');
      measured.push({ cli, raw });
    }
    return measured;
  });

  const cli = (pick: (m: CliMeasurement) => number) => summarize(runs.map((run) => pick(run.cli)));
  const raw = (pick: (m: RawMeasurement) => number) => summarize(runs.map((run) => pick(run.raw)));
  const name = `unthrottled drain (${count.toLocaleString('en-US')} events)`;
  const rows = [
    row(name, 'CLI: node dist/cli.js run', 'logs/s', cli((m) => m.logsPerSecond)),
    row(name, 'CLI CPU', 'µs/log', cli((m) => (m.cpuMicros ?? Number.NaN) / count)),
    row(name, 'CLI peak RSS', 'MB', cli((m) => (m.peakRssBytes ?? Number.NaN) / MB)),
    row(name, 'CLI time per page', 'ms', cli((m) => m.wallMs / (m.report?.pages ?? Number.NaN))),
    row(name, 'raw baseline: fetch loop + one TLS connection', 'logs/s', raw((m) => m.logsPerSecond)),
    row(name, 'raw baseline CPU', 'µs/log', raw((m) => m.cpuMicros / m.events)),
    row(name, 'CLI ÷ raw baseline', '%', summarize(runs.map((run) => (100 * run.cli.logsPerSecond) / run.raw.logsPerSecond)), { op: '>=', value: 50, on: 'median' }),
    row(name, 'rsyslogd CPU, CLI', 'µs/log', cli((m) => (m.receiverCpuMicros ?? Number.NaN) / count)),
    row(name, 'rsyslogd CPU, raw baseline', 'µs/log', raw((m) => (m.receiverCpuMicros ?? Number.NaN) / m.events)),
    row(name, 'events lost or duplicated (CLI)', 'count', cli((m) => m.delivery.missing + m.delivery.duplicates), { op: '<=', value: 0, on: 'worst' }),
  ];
  return { name: 'drain', rows, details: { runs }, failures };
}
