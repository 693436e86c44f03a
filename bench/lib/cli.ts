/**
 * One measured run of the real CLI (`node dist/cli.js run`) as a child
 * process, against a simulated tenant and a receiver: wall time from spawn to
 * exit, and the process's own CPU time and peak RSS (see report-usage.js).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startCli } from '../../test/support/cli';
import { exportEnv } from '../../test/support/export-env';
import type { FakeTenant } from '../../test/support/fake-tenant';
import { track } from './cleanup';

const USAGE_PRELOAD = join(__dirname, 'report-usage.js');

/** The parts of the CLI's JSON run report the bench reads. */
export interface CliReport {
  status: string;
  fetched: number;
  exported: number;
  pages: number;
  checkpoint: string | null;
  stoppedBy: string;
  durationMs: number;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  report: CliReport | undefined;
  wallMs: number;
  /** User + system CPU of the CLI process, µs. */
  cpuMicros: number | undefined;
  peakRssBytes: number | undefined;
  /** The end of stderr, for failure messages. */
  stderrTail: string;
}

function asReport(value: Record<string, unknown> | undefined): CliReport | undefined {
  if (value === undefined || typeof value['status'] !== 'string') return undefined;
  const num = (key: string): number => (typeof value[key] === 'number' ? value[key] : Number.NaN);
  return {
    status: value['status'],
    fetched: num('fetched'),
    exported: num('exported'),
    pages: num('pages'),
    checkpoint: typeof value['checkpoint'] === 'string' ? value['checkpoint'] : null,
    stoppedBy: typeof value['stoppedBy'] === 'string' ? value['stoppedBy'] : 'unknown',
    durationMs: num('durationMs'),
  };
}

function readUsage(file: string): { cpuMicros: number; peakRssBytes: number } | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as { cpuMicros: number; peakRssBytes: number };
}

export async function runMeasuredCli(tenant: FakeTenant, receiverPort: number, settings: Record<string, string>): Promise<CliRun> {
  const env = exportEnv(tenant, { port: receiverPort }, settings);
  // exportEnv made a fresh state dir; the CLI runs there too, so no developer .env in the checkout is read.
  const stateDir = dirname(env.STORAGE_FILE);
  const usageFile = join(stateDir, 'usage.json');
  try {
    const started = performance.now();
    const { child, done } = startCli(['run'], { ...env, NODE_OPTIONS: `--require ${JSON.stringify(USAGE_PRELOAD)}`, BENCH_USAGE_FILE: usageFile }, stateDir);
    const release = track(`CLI pid ${child.pid ?? '?'}`, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const result = await done.finally(() => release());
    const wallMs = performance.now() - started;
    const usage = readUsage(usageFile);
    return {
      code: result.code,
      signal: result.signal,
      report: asReport(result.report),
      wallMs,
      cpuMicros: usage?.cpuMicros,
      peakRssBytes: usage?.peakRssBytes,
      stderrTail: result.stderr.slice(-2000),
    };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
