/**
 * Scenario "follow": `serve` in follow mode (SCHEDULE=continuous, the default
 * POLL_INTERVAL_SECONDS of 5) against a tenant that grows by 20 events a
 * second under the Essentials/Professional Read Logs limit (burst 10,
 * 100/min), for BENCH_FOLLOW_SECONDS (default 600; 30 with BENCH_QUICK).
 *
 * Lag is measured per event, from the moment it is added to the simulated
 * tenant to the moment rsyslogd has written it (output polled every 50 ms).
 * The bucket's lowest level and any 429 show whether polling ever emptied it.
 */
import { once } from 'node:events';
import { startCli } from '../../test/support/cli';
import { exportEnv } from '../../test/support/export-env';
import { withReceiver } from '../lib/receiver';
import { row, type ScenarioResult } from '../lib/report';
import { summarize } from '../lib/stats';
import { withTenant } from '../lib/tenant';
import { track } from '../lib/cleanup';
import type { Context } from './context';

const EVENTS_PER_SECOND = 20;
const POLL_INTERVAL_SECONDS = 5;
const ESSENTIALS = { limit: 10, refillPerSecond: 100 / 60 };

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export async function followLag(ctx: Context): Promise<ScenarioResult> {
  const seconds = ctx.options.follow.seconds;
  const failures: string[] = [];
  const measured = await withTenant(ctx.cert, { count: 0, rateLimit: ESSENTIALS }, (tenant) =>
    withReceiver(ctx.root, ctx.cert, async (receiver) => {
      const env = exportEnv(tenant, { port: receiver.port }, { SCHEDULE: 'continuous', POLL_INTERVAL_SECONDS: String(POLL_INTERVAL_SECONDS), HOST: '127.0.0.1', PORT: '0' });
      const service = startCli(['serve'], env);
      const stop = track(`serve pid ${service.child.pid ?? '?'}`, () => {
        if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
      });
      const appendedAt = new Map<string, number>();
      const arrivedAt = new Map<string, number>();
      let seen = 0;
      const collect = async (): Promise<void> => {
        const messages = await receiver.rsyslog.messages();
        const now = performance.now();
        for (; seen < messages.length; seen++) {
          const id = /"log_id":"(\d+)"/.exec((messages[seen] as (typeof messages)[number]).msg)?.[1];
          if (id !== undefined && !arrivedAt.has(id)) arrivedAt.set(id, now);
        }
      };
      try {
        const started = performance.now();
        let added = 0;
        // One event every 50 ms, on schedule (not drifting with the timer).
        while (performance.now() - started < seconds * 1000) {
          const due = Math.floor(((performance.now() - started) / 1000) * EVENTS_PER_SECOND);
          for (; added < due; added++) {
            tenant.append(1);
            appendedAt.set(tenant.idAt(tenant.size() - 1), performance.now());
          }
          await collect();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // Let the last events arrive.
        const settleUntil = performance.now() + (POLL_INTERVAL_SECONDS + 10) * 1000;
        while (arrivedAt.size < appendedAt.size && performance.now() < settleUntil) {
          await collect();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        service.child.kill('SIGTERM');
        await once(service.child, 'exit');
      } finally {
        await stop();
      }
      const lags: number[] = [];
      let missing = 0;
      for (const [id, at] of appendedAt) {
        const arrived = arrivedAt.get(id);
        if (arrived === undefined) missing++;
        else lags.push((arrived - at) / 1000);
      }
      lags.sort((a, b) => a - b);
      const stats = tenant.stats();
      if (missing > 0) failures.push(`follow: ${missing} of ${appendedAt.size} events never arrived`);
      if (service.child.exitCode !== 0) failures.push(`follow: serve exited with ${service.child.exitCode ?? service.child.signalCode} on SIGTERM`);
      const result = {
        events: appendedAt.size,
        missing,
        p50: percentile(lags, 50),
        p99: percentile(lags, 99),
        max: lags[lags.length - 1] ?? Number.NaN,
        logsRequests: stats.logsRequests,
        responses429: stats.logsResponses[429] ?? 0,
        lowestRemaining: stats.lowestRemaining ?? Number.NaN,
      };
      ctx.progress(`follow: ${result.events} events over ${seconds} s, lag p50 ${result.p50.toFixed(2)} s, p99 ${result.p99.toFixed(2)} s, ${result.logsRequests} requests, lowest bucket ${result.lowestRemaining}, ${result.responses429} × 429`);
      return result;
    }),
  );

  const one = (value: number) => summarize([value]);
  const name = `follow mode (${EVENTS_PER_SECOND} events/s for ${seconds} s, Essentials limit, POLL_INTERVAL_SECONDS=${POLL_INTERVAL_SECONDS})`;
  const rows = [
    row(name, 'lag, appearance at the tenant → written by rsyslogd, p50', 's', one(measured.p50)),
    row(name, 'lag p99', 's', one(measured.p99), { op: '<=', value: POLL_INTERVAL_SECONDS + 2, on: 'median' }),
    row(name, 'lag max', 's', one(measured.max)),
    row(name, 'logs requests per minute', 'count', one((measured.logsRequests / seconds) * 60)),
    row(name, 'lowest tokens left in the bucket', 'count', one(measured.lowestRemaining), { op: '>=', value: 1, on: 'worst' }),
    row(name, '429 responses', 'count', one(measured.responses429), { op: '<=', value: 0, on: 'worst' }),
    row(name, 'events never delivered', 'count', one(measured.missing), { op: '<=', value: 0, on: 'worst' }),
  ];
  return { name: 'follow', rows, details: { measured }, failures };
}
