/**
 * Scenario `privacy`: what PII_FIELDS, OMIT_FIELDS and MESSAGE_FORMAT cost.
 * The realistic event mix is formatted in this process exactly as both
 * export paths format it (`formatLogs` with the settings config parses), and
 * the CPU time of that stage is measured per log: with nothing masked, with
 * PII_FIELDS=email,username,ip hashed and masked, and with the summary line.
 * Bytes per event are the frames' sizes with and without OMIT_FIELDS. The
 * rest of a drain's CPU per log (fetching, TLS, state) does not depend on
 * these settings; the `drain` scenario measures it.
 */
import { loadConfig } from '../../src/config';
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
  const scenario = `privacy (${count.toLocaleString('en-US')} realistic events)`;
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
    ],
    details: { events: count, omitFields: BENCH_OMIT_FIELDS, cpuMicrosPerLog: cpu, bytesPerEvent: bytes },
    failures: [],
    notes: [
      `PII hashing adds ${(median('hash') - median('off')).toFixed(1)} µs of CPU per log to formatting (${median('off').toFixed(1)} → ${median('hash').toFixed(1)} µs); OMIT_FIELDS saves ${Math.round(saved)} bytes per event (${(((saved) / (bytes.off ?? 1)) * 100).toFixed(0)} %).`,
    ],
  };
}
