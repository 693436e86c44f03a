/**
 * The original extension's pipeline as a bench peer: auth0-log-extension-tools
 * 1.3.10's LogsProcessor fetching from the simulated tenant, and its handler
 * shipping each log with winston + winston-papertrail 1.0.5, five at a time,
 * as the last Papertrail sender did. Installed in bench/original (its own
 * package.json and lock file, never a dependency of the product) by
 * lib/original.ts. It confirms nothing (a write callback), verifies no
 * certificate (winston-papertrail sets rejectUnauthorized: false) and keeps one
 * connection; we measure it, we do not endorse it.
 *
 * Differences from the extension, each in its favour: storage is in memory
 * rather than webtask storage (one read per page for the token in the
 * original), the run budget is lifted from 22 s so one run drains everything,
 * and its first request starts in checkpoint mode at the same checkpoint as
 * ours (the simulated tenant serves checkpoint mode only).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LineCounter } from '../lib/output-lines';
import { peakRssBytes } from '../lib/proc';
import { workerMain } from '../lib/worker';

export interface OriginalDrainInput {
  domain: string;
  clientId: string;
  clientSecret: string;
  from: string;
  take: number;
  port: number;
  outDir: string;
  /** Lines the receiver will hold when everything arrived (one per log; a log the sender splits counts more). */
  expectedLines: number;
}

export interface OriginalDrainOutput {
  events: number;
  receivedMs: number;
  cpuMicros: number;
  peakRssBytes: number;
  error: string | null;
}

type Callback = (error?: unknown) => void;
interface WinstonLogger {
  info(message: string, callback: Callback): void;
  close(): void;
}

async function main(input: OriginalDrainInput): Promise<OriginalDrainOutput> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const load = createRequire(join(__dirname, '..', 'original', 'package.json'));
  const tools = load('auth0-log-extension-tools') as { LogsProcessor: new (storage: unknown, options: unknown) => { run(handler: (logs: unknown[], cb: Callback) => void): Promise<{ status: { logsProcessed: number; error?: unknown } }> } };
  const winston = load('winston') as { Logger: new (options: unknown) => WinstonLogger; transports: Record<string, new (options: unknown) => unknown> };
  load('winston-papertrail');
  const eachLimit = (load('async') as { eachLimit: (items: unknown[], limit: number, fn: (item: unknown, cb: Callback) => void, done: Callback) => void }).eachLimit;
  const Papertrail = winston.transports['Papertrail'];
  if (Papertrail === undefined) throw new Error('winston-papertrail did not register its transport');

  let data: Record<string, unknown> = {};
  const storage = { read: async () => data, write: async (next: Record<string, unknown>) => void (data = next) };
  const counter = new LineCounter(input.outDir);

  const papertrail = new winston.Logger({ transports: [new Papertrail({ host: '127.0.0.1', port: input.port, hostname: 'auth0-logs' })] });
  const processor = new tools.LogsProcessor(storage, {
    domain: input.domain,
    clientId: input.clientId,
    clientSecret: input.clientSecret,
    batchSize: input.take,
    startFrom: input.from,
    maxRunTimeSeconds: 3600,
  });
  const result = await processor.run((logs, cb) => eachLimit(logs, 5, (log, done) => papertrail.info(JSON.stringify(log), done), cb));
  const events = result.status.logsProcessed;
  await counter.waitFor(input.expectedLines, 120_000);
  const receivedMs = performance.now() - started;
  papertrail.close();
  const used = process.cpuUsage(cpu);
  const error = result.status.error === undefined ? null : JSON.stringify(result.status.error).slice(0, 500);
  return { events, receivedMs, cpuMicros: used.user + used.system, peakRssBytes: peakRssBytes(), error };
}

workerMain(main);
