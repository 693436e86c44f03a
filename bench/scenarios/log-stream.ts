/**
 * Scenario 5, log stream: `serve` receiving an Auth0 log stream on
 * POST /log-stream, every answer given only after rsyslogd confirmed the
 * records (see src/log-stream/ship-delivery.ts), in both modes: the default
 * (the poller on; answered on confirmation) and LOG_STREAM_ONLY (answered
 * once the shipment is out of doubt).
 *
 *   throughput  4 senders post batches of 100 (JSON array) back to back:
 *               events per second from the first request to the last answer
 *   latency     one batch of 100 every 333 ms (a steady 300 events/s): time
 *               from sending a request to its answer, p50 and p99 (on
 *               loopback, that is the server's arrival-to-answer time plus
 *               well under a millisecond)
 *
 *   raw loop    in the same run, the drain scenario's physical baseline on as
 *               many events: a plain loop fetching them from a tenant and
 *               writing them on one verified TLS connection, until the
 *               receiver has written them all (workers/raw-drain.ts); it
 *               confirms nothing
 *
 * Every run's delivery is checked event by event: nothing lost or doubled.
 */
import { dirname } from 'node:path';
import { rmSync } from 'node:fs';
import { checkDelivery } from '../../test/support/delivery';
import { generateEvents, type TenantEvent } from '../../test/support/events';
import { exportEnv } from '../../test/support/export-env';
import type { FakeTenant } from '../../test/support/fake-tenant';
import { startCli } from '../../test/support/cli';
import { encodeBatch, toStreamRecord } from '../../test/support/log-stream-sender';
import { track } from '../lib/cleanup';
import { bootstrapCheckpoint } from '../../src/auth0/checkpoint-id';
import { checkOutput, deliveredExactlyOnce } from '../lib/output-lines';
import { withReceiver, type BenchReceiver } from '../lib/receiver';
import { runWorker } from '../lib/worker';
import type { RawDrainInput, RawDrainOutput } from '../workers/raw-drain';
import { row, type ScenarioResult } from '../lib/report';
import { summarize } from '../lib/stats';
import { withTenant } from '../lib/tenant';
import type { Context } from './context';

const TOKEN = 'bench-log-stream-token-0123456789';
const BATCH = 100;
const SENDERS = 4;
const STEADY_PER_SECOND = 300;

/** hybrid: the default, poller on, a delivery answered once confirmed; stream-only: LOG_STREAM_ONLY, answered once out of doubt. */
type Mode = 'hybrid' | 'stream-only';

interface ModeRun {
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non200: number;
  missing: number;
  duplicates: number;
}

interface StreamRun {
  hybrid: ModeRun;
  streamOnly: ModeRun;
  /** The raw loop's lines per second in the same run. */
  rawPerSecond: number;
}

async function withServe<T>(mode: Mode, tenant: FakeTenant, receiver: BenchReceiver, body: (url: string) => Promise<T>): Promise<T> {
  const env = exportEnv(tenant, { port: receiver.port }, { LOG_STREAM_TOKEN: TOKEN, LOG_STREAM_ONLY: String(mode === 'stream-only'), HOST: '127.0.0.1', PORT: '0' });
  const { child, done } = startCli(['serve'], env, dirname(env.STORAGE_FILE));
  const release = track(`serve pid ${child.pid ?? '?'}`, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await done;
    rmSync(dirname(env.STORAGE_FILE), { recursive: true, force: true });
  });
  try {
    let stderr = '';
    child.stderr?.on('data', (chunk: string) => (stderr += chunk));
    const deadline = Date.now() + 20_000;
    let url: string | undefined;
    while ((url = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1]) === undefined) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`serve did not start: ${stderr.slice(-1000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return await body(`${url}/log-stream`);
  } finally {
    await release();
  }
}

async function post(url: string, events: readonly TenantEvent[]): Promise<{ status: number; ms: number }> {
  const body = encodeBatch(events.map(toStreamRecord), 'json-array');
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** The drain scenario's physical baseline on as many events: fetched from a tenant and written on one TLS connection. */
async function measureRaw(ctx: Context, count: number, failures: string[], label: string): Promise<number> {
  return withTenant(ctx.cert, { count }, (tenant) => withReceiver(ctx.root, ctx.cert, async (receiver) => {
    const input: RawDrainInput = {
      tenantUrl: tenant.url,
      audience: tenant.audience,
      clientId: tenant.clientId,
      clientSecret: tenant.clientSecret,
      from: bootstrapCheckpoint(Date.now()),
      take: BATCH,
      port: receiver.port,
      outDir: receiver.outDir,
    };
    const out = await runWorker<RawDrainOutput>('raw-drain', input, { caFile: ctx.cert.caFile });
    const check = await checkOutput(receiver.outDir, tenant.size(), (i) => tenant.idAt(i));
    if (!deliveredExactlyOnce(check)) failures.push(`${label}: raw loop delivery ${JSON.stringify(check)}`);
    const perSecond = out.events / (out.receivedMs / 1000);
    ctx.progress(`${label}: raw loop ${Math.round(perSecond)} logs/s`);
    return perSecond;
  }));
}

async function measure(ctx: Context, mode: Mode, events: readonly TenantEvent[], steadyEvents: readonly TenantEvent[], label: string): Promise<ModeRun> {
  // The tenant serves none of the events: in hybrid mode the poller runs and finds nothing to fill.
  return withTenant(ctx.cert, { count: 0 }, (tenant) => withReceiver(ctx.root, ctx.cert, (receiver) => withServe(mode, tenant, receiver, async (url) => {
    let non200 = 0;
    let requests = 0;
    // Throughput: 4 senders, back to back.
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: SENDERS }, async () => {
      for (;;) {
        const from = next;
        next += BATCH;
        if (from >= events.length) return;
        for (;;) {
          requests++;
          const { status } = await post(url, events.slice(from, from + BATCH));
          if (status === 200) break;
          non200++;
        }
      }
    }));
    const eventsPerSecond = events.length / ((performance.now() - started) / 1000);

    // Latency at a steady rate: a batch every BATCH / STEADY_PER_SECOND seconds, not waiting for answers.
    const latencies: number[] = [];
    const every = (1000 * BATCH) / STEADY_PER_SECOND;
    const t0 = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let k = 0; k * BATCH < steadyEvents.length; k++) {
      const due = t0 + k * every;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(post(url, steadyEvents.slice(k * BATCH, (k + 1) * BATCH)).then(({ status, ms }) => {
        requests++;
        if (status !== 200) non200++;
        latencies.push(ms);
      }));
    }
    await Promise.all(inFlight);
    latencies.sort((a, b) => a - b);

    const figures = checkDelivery([...events, ...steadyEvents], await receiver.rsyslog.messages());
    const run = { eventsPerSecond, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), requests, non200, missing: figures.missing, duplicates: figures.duplicates };
    ctx.progress(`${label}, ${mode}: ${Math.round(eventsPerSecond)} events/s; at ${STEADY_PER_SECOND}/s p50 ${run.p50Ms.toFixed(1)} ms, p99 ${run.p99Ms.toFixed(1)} ms; ${figures.missing} missing, ${figures.duplicates} duplicates`);
    return run;
  })));
}

export async function logStream(ctx: Context): Promise<ScenarioResult> {
  const { events: count, steadySeconds } = ctx.options.stream;
  const failures: string[] = [];
  // Recent enough for any setting; the tenant serves none of them (the poller is off).
  const start = new Date(Date.now() - 3600_000);
  const all = generateEvents(count + steadySeconds * STEADY_PER_SECOND, { start });
  const events = all.slice(0, count);
  const steady = all.slice(count);
  const runs: StreamRun[] = [];
  for (let r = 0; r < ctx.options.runs; r++) {
    const label = `stream run ${r + 1}/${ctx.options.runs}`;
    // Alternating which goes first, so slow drift on a shared machine hits both alike.
    let rawPerSecond = r % 2 === 0 ? await measureRaw(ctx, events.length, failures, label) : Number.NaN;
    const hybrid = await measure(ctx, 'hybrid', events, steady, label);
    const streamOnly = await measure(ctx, 'stream-only', events, steady, label);
    if (r % 2 === 1) rawPerSecond = await measureRaw(ctx, events.length, failures, label);
    for (const [mode, run] of [['hybrid', hybrid], ['stream-only', streamOnly]] as const) {
      if (run.missing > 0 || run.duplicates > 0) failures.push(`${label}, ${mode}: ${run.missing} missing, ${run.duplicates} duplicates`);
      if (run.non200 > 0) failures.push(`${label}, ${mode}: ${run.non200} answers other than 200`);
    }
    runs.push({ hybrid, streamOnly, rawPerSecond });
  }
  const figure = (pick: (run: StreamRun) => number) => summarize(runs.map(pick));
  const name = `log stream (${count.toLocaleString('en-US')} events; then ${steadySeconds} s at ${STEADY_PER_SECOND}/s)`;
  const rows = [
    row(name, 'raw loop: as many events fetched and written on one TLS connection, nothing confirmed', 'logs/s', figure((r) => r.rawPerSecond)),
    row(name, `POST /log-stream (default, the poller on), ${SENDERS} senders, batches of ${BATCH}, confirmed delivery`, 'logs/s', figure((r) => r.hybrid.eventsPerSecond)),
    row(name, 'log stream (default) ÷ raw loop', '×', figure((r) => r.hybrid.eventsPerSecond / r.rawPerSecond), { op: '>=', value: 0.5, on: 'median' }),
    row(name, `default: request to answer at a steady ${STEADY_PER_SECOND} events/s, p50`, 'ms', figure((r) => r.hybrid.p50Ms)),
    row(name, `default: request to answer at a steady ${STEADY_PER_SECOND} events/s, p99`, 'ms', figure((r) => r.hybrid.p99Ms), { op: '<=', value: 250, on: 'median' }),
    row(name, 'LOG_STREAM_ONLY (answered once out of doubt), same senders', 'logs/s', figure((r) => r.streamOnly.eventsPerSecond)),
    row(name, 'LOG_STREAM_ONLY ÷ raw loop', '×', figure((r) => r.streamOnly.eventsPerSecond / r.rawPerSecond)),
    row(name, `LOG_STREAM_ONLY: request to answer at a steady ${STEADY_PER_SECOND} events/s, p99`, 'ms', figure((r) => r.streamOnly.p99Ms)),
    row(name, 'events lost or duplicated, both modes', 'count', figure((r) => r.hybrid.missing + r.hybrid.duplicates + r.streamOnly.missing + r.streamOnly.duplicates), { op: '<=', value: 0, on: 'worst' }),
  ];
  return { name: 'stream', rows, details: { runs }, failures };
}
