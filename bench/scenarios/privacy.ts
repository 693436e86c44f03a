/**
 * Scenario `privacy`: what PII_FIELDS, OMIT_FIELDS and MESSAGE_FORMAT cost.
 * The realistic event mix is formatted in this process exactly as both
 * export paths format it (`formatLogs` with the settings config parses), and
 * the CPU time of that stage is measured per log: with nothing masked, with
 * PII_FIELDS=email,username,ip hashed and masked, and with the summary line.
 * Bytes per event are the frames' sizes with and without OMIT_FIELDS. Then
 * the real CLI drains the realistic mix from the simulated tenant into
 * rsyslogd with PII hashing off and on, runs interleaved: its whole CPU per
 * log, as the `drain` scenario measures it.
 */
import { loadConfig } from '../../src/config';
import { runMeasuredCli } from '../lib/cli';
import { withReceiver } from '../lib/receiver';
import { withTenant } from '../lib/tenant';
import { formatLogs } from '../../src/stages/ship-logs';
import { generateEvents } from '../../test/support/events';
import { PAGE } from '../lib/options';
import { REALISTIC_MIX } from '../lib/profiles';
import { row, type ScenarioResult } from '../lib/report';
import { summarize } from '../lib/stats';
import { rotated, type Context } from './context';

/** The sub-trees a reader of login events rarely needs: the Management API's request echo, the geo block, the prompts. */
export const BENCH_OMIT_FIELDS = 'details.request.auth,details.response,details.prompts,location_info,_id';

const BASE = { AUTH0_DOMAIN: 'bench.example.com', AUTH0_CLIENT_ID: 'bench', AUTH0_CLIENT_SECRET: 'bench-secret', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '6514' };
const VARIANTS = {
  off: {},
  hash: { PII_FIELDS: 'email,username,ip', PII_METHOD: 'hash', PII_HASH_KEY: 'bench-pii-hash-key-0123456789' },
  mask: { PII_FIELDS: 'email,username,ip', PII_METHOD: 'mask' },
  summary: { MESSAGE_FORMAT: 'summary' },
  omit: { OMIT_FIELDS: BENCH_OMIT_FIELDS },
} as const;
type Variant = keyof typeof VARIANTS;

export async function privacy(ctx: Context): Promise<ScenarioResult> {
  const count = ctx.options.quick ? 20_000 : 100_000;
  const events = generateEvents(count, REALISTIC_MIX);
  const names = Object.keys(VARIANTS) as Variant[];
  const cpu: Record<Variant, number[]> = { off: [], hash: [], mask: [], summary: [], omit: [] };
  const bytes: Partial<Record<Variant, number>> = {};
  for (let run = 0; run < ctx.options.runs; run++) {
    for (const name of rotated(names, run)) {
      // A fresh config per run: the pseudonym cache starts empty, as in a new process.
      const options = loadConfig({ ...BASE, ...VARIANTS[name] }).papertrail;
      let frameBytes = 0;
      const started = process.cpuUsage();
      for (let i = 0; i < events.length; i += PAGE) {
        const { lines } = formatLogs(events.slice(i, i + PAGE), options);
        if (run === 0) for (const line of lines) frameBytes += Buffer.byteLength(line) + 1;
      }
      const used = process.cpuUsage(started);
      cpu[name].push((used.user + used.system) / events.length);
      if (run === 0) bytes[name] = frameBytes / events.length;
    }
    ctx.progress(`privacy: run ${run + 1}/${ctx.options.runs}`);
  }
  const drained = ctx.options.quick ? 10_000 : 50_000;
  const drainCpu: Record<'off' | 'hash', number[]> = { off: [], hash: [] };
  const failures: string[] = [];
  await withTenant(ctx.cert, { count: drained, ...REALISTIC_MIX }, async (tenant) => {
    for (let run = 0; run < ctx.options.runs; run++) {
      for (const name of rotated(['off', 'hash'] as const, run)) {
        await withReceiver(ctx.root, ctx.cert, async (receiver) => {
          const result = await runMeasuredCli(tenant, receiver.port, { MAX_RUN_SECONDS: '3600', ...VARIANTS[name] });
          if (result.code !== 0 || result.report?.exported !== drained || result.cpuMicros === undefined) {
            failures.push(`privacy drain ${name}: exit ${result.code ?? result.signal}, report ${JSON.stringify(result.report)}; stderr: ${result.stderrTail.slice(-300)}`);
          } else {
            drainCpu[name].push(result.cpuMicros / drained);
          }
        });
      }
      ctx.progress(`privacy: drain run ${run + 1}/${ctx.options.runs}`);
    }
  });

  const scenario = `privacy (${count.toLocaleString('en-US')} realistic events)`;
  const drainScenario = `privacy drain (${drained.toLocaleString('en-US')} realistic events, CLI)`;
  const drainRows = (['off', 'hash'] as const).filter((name) => drainCpu[name].length > 0).map((name) =>
    row(drainScenario, `CLI CPU per log, ${name === 'off' ? 'PII off' : 'PII_METHOD=hash (email,username,ip)'}`, 'µs/log', summarize(drainCpu[name])));
  const drainNote = drainCpu.off.length > 0 && drainCpu.hash.length > 0
    ? ` A whole drain: ${summarize(drainCpu.off).median.toFixed(1)} → ${summarize(drainCpu.hash).median.toFixed(1)} µs of CPU per log with hashing on (${(((summarize(drainCpu.hash).median / summarize(drainCpu.off).median) - 1) * 100).toFixed(0)} %).`
    : '';
  const median = (name: Variant): number => summarize(cpu[name]).median;
  const saved = (bytes.off ?? 0) - (bytes.omit ?? 0);
  return {
    name: 'privacy',
    rows: [
      row(scenario, 'format CPU per log, PII off', 'µs/log', summarize(cpu.off)),
      row(scenario, 'format CPU per log, PII_METHOD=hash (email,username,ip)', 'µs/log', summarize(cpu.hash)),
      row(scenario, 'format CPU per log, PII_METHOD=mask (email,username,ip)', 'µs/log', summarize(cpu.mask)),
      row(scenario, 'format CPU per log, MESSAGE_FORMAT=summary', 'µs/log', summarize(cpu.summary)),
      row(scenario, 'bytes per event (frame), all fields', 'count', summarize([bytes.off ?? 0])),
      row(scenario, `bytes per event (frame), OMIT_FIELDS=${BENCH_OMIT_FIELDS}`, 'count', summarize([bytes.omit ?? 0])),
      ...drainRows,
    ],
    details: { events: count, omitFields: BENCH_OMIT_FIELDS, cpuMicrosPerLog: cpu, bytesPerEvent: bytes, drain: { events: drained, cpuMicrosPerLog: drainCpu } },
    failures,
    notes: [
      `PII hashing adds ${(median('hash') - median('off')).toFixed(1)} µs of CPU per log to formatting (${median('off').toFixed(1)} → ${median('hash').toFixed(1)} µs); OMIT_FIELDS saves ${Math.round(saved)} bytes per event (${((saved / (bytes.off ?? 1)) * 100).toFixed(0)} %).${drainNote}`,
    ],
  };
}
