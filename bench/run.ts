/**
 * `npm run bench`: measures the exporter against its targets and prints one
 * table; the same figures go to bench/results/<timestamp>.json and latest.json.
 *
 *   BENCH_QUICK=1                       smoke profile: small counts, 1 run
 *   BENCH_RUNS=N                        runs per figure (default 3)
 *   BENCH_SCENARIOS=sink,drain,ratelimit,scaling,state,stream,follow,privacy,coldstart
 *   BENCH_FOLLOW_SECONDS=N              follow-mode scenario length (default 600)
 *
 * Everything runs on 127.0.0.1: the simulated tenant in this process, the CLI
 * and shipping workers in their own processes, rsyslogd as the receiver. Exits
 * non-zero if any run lost or duplicated events or failed; a missed
 * performance target is reported in the table, not as a failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createTestPki } from '../test/support/certs';
import { releaseAll, releaseOnSignals, track } from './lib/cleanup';
import { describeEnvironment } from './lib/environment';
import { OptionsError, readOptions, type BenchOptions, type ScenarioName } from './lib/options';
import { renderTable, writeResults, type ScenarioResult } from './lib/report';
import type { Context } from './scenarios/context';
import { backlogScaling } from './scenarios/backlog-scaling';
import { coldStart } from './scenarios/cold-start';
import { followLag } from './scenarios/follow-lag';
import { logStream } from './scenarios/log-stream';
import { privacy } from './scenarios/privacy';
import { rateLimitedDrain } from './scenarios/rate-limited-drain';
import { sinkVsRaw } from './scenarios/sink-vs-raw';
import { stateCost } from './scenarios/state-cost';
import { unthrottledDrain } from './scenarios/unthrottled-drain';

const SCENARIO_RUNNERS: Record<ScenarioName, (ctx: Context) => Promise<ScenarioResult>> = {
  sink: sinkVsRaw,
  drain: unthrottledDrain,
  ratelimit: rateLimitedDrain,
  scaling: backlogScaling,
  state: stateCost,
  follow: followLag,
  stream: logStream,
  privacy,
  coldstart: coldStart,
};

const RESULTS_DIR = join(__dirname, 'results');

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function runScenarios(options: BenchOptions, root: string): Promise<ScenarioResult[]> {
  const ctx: Context = { options, root, cert: createTestPki(join(root, 'pki')).server, progress };
  const results: ScenarioResult[] = [];
  for (const name of options.scenarios) {
    progress(`scenario ${name}…`);
    try {
      results.push(await SCENARIO_RUNNERS[name](ctx));
    } catch (error) {
      // One broken scenario must not hide the others' figures; it still fails the bench.
      const message = error instanceof Error ? error.message : String(error);
      progress(`scenario ${name} failed: ${message}`);
      results.push({ name, rows: [], details: { error: message }, failures: [`${name}: ${message}`] });
    }
  }
  return results;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = readOptions();
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    process.stderr.write(`bench: ${error.message}\n`);
    return 2;
  }
  releaseOnSignals();
  const environment = describeEnvironment();
  const started = performance.now();
  const root = mkdtempSync(join(os.tmpdir(), 'a0pt-bench-'));
  const removeRoot = track(`temp dir ${root}`, () => rmSync(root, { recursive: true, force: true }));
  let results: ScenarioResult[];
  try {
    results = await runScenarios(options, root);
  } finally {
    await removeRoot();
  }

  const seconds = (performance.now() - started) / 1000;
  const rows = results.flatMap((r) => r.rows);
  const failures = results.flatMap((r) => r.failures);
  const file = writeResults(RESULTS_DIR, {
    environment,
    options,
    durationSeconds: Math.round(seconds),
    rows,
    failures,
    details: Object.fromEntries(results.map((r) => [r.name, r.details])),
  });
  process.stdout.write(`${renderTable(environment, options, rows, seconds)}\n\n`);
  const missed = rows.filter((r) => r.met === false).map((r) => `${r.scenario.replace(/ \(.*$/, '')}: ${r.measure}`);
  if (missed.length > 0) process.stdout.write(`Targets not met: ${missed.join('; ')}\n`);
  for (const note of results.flatMap((r) => r.notes ?? [])) process.stdout.write(`Note: ${note}\n`);
  if (failures.length > 0) process.stdout.write(`FAILED (${failures.length}):\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
  process.stdout.write(`Results: ${file} (and latest.json)\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await releaseAll();
    process.exitCode = 1;
  },
);
