/**
 * Scenario, cold start: what a command costs before it does anything, over
 * Node's own start-up. A cron CLI and the extension pay it on every run.
 *
 *   node -e 0                                    Node itself
 *   node dist/cli.js --version                   the CLI's smallest command
 *   node dist/cli.js run, no settings            stops at "Invalid configuration"
 *                                                before anything is fetched
 *
 * Each is spawned `coldStart.spawns` times, the three interleaved so that the
 * machine's load drifts over all alike; the figure is the median wall time
 * from spawn to exit, and the target is the gap to `node -e 0`. The run has
 * an empty environment and an empty working directory, so no .env is read.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { row, type ScenarioResult } from '../lib/report';
import { summarize } from '../lib/stats';
import type { Context } from './context';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

interface Command {
  name: string;
  args: string[];
  /** The exit code that shows the command did what it should (and not, say, crash). */
  exitCode: number;
}

const COMMANDS: readonly Command[] = [
  { name: 'node -e 0', args: ['-e', '0'], exitCode: 0 },
  { name: 'cli --version', args: [CLI, '--version'], exitCode: 0 },
  { name: 'cli run without settings', args: [CLI, 'run'], exitCode: 2 },
];

function wallMs(command: Command, cwd: string, failures: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, command.args, { cwd, env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (result.status !== command.exitCode) failures.push(`cold start, ${command.name}: exit ${result.status ?? result.signal}, expected ${command.exitCode}: ${(result.stderr ?? '').slice(-300)}`);
  return ms;
}

export async function coldStart(ctx: Context): Promise<ScenarioResult> {
  const spawns = ctx.options.coldStart.spawns;
  const failures: string[] = [];
  const cwd = mkdtempSync(join(ctx.root, 'cold-start-'));
  const times: Record<string, number[]> = Object.fromEntries(COMMANDS.map((c) => [c.name, []]));
  try {
    // One unmeasured round: the first spawn after a build pays for the disk cache.
    for (const command of COMMANDS) wallMs(command, cwd, []);
    for (let i = 0; i < spawns; i++) {
      for (const command of COMMANDS) times[command.name]?.push(wallMs(command, cwd, failures));
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  const median = (name: string): number => summarize(times[name] ?? []).median;
  const node = median('node -e 0');
  ctx.progress(`cold start: node -e 0 ${node.toFixed(0)} ms, --version ${median('cli --version').toFixed(0)} ms, run without settings ${median('cli run without settings').toFixed(0)} ms (medians of ${spawns})`);
  const name = `cold start (${spawns} spawns each, interleaved; wall time from spawn to exit)`;
  // Per spawn round: the command's time minus node -e 0's in the same round, so load drift cancels out.
  const over = (command: string) => summarize((times[command] ?? []).map((ms, i) => ms - (times['node -e 0']?.[i] ?? Number.NaN)));
  const rows = [
    row(name, 'node -e 0', 'ms', summarize(times['node -e 0'] ?? [])),
    row(name, 'node dist/cli.js --version', 'ms', summarize(times['cli --version'] ?? [])),
    row(name, 'node dist/cli.js run, stopping at missing settings', 'ms', summarize(times['cli run without settings'] ?? [])),
    row(name, '--version over node -e 0', 'ms', over('cli --version'), { op: '<=', value: 100, on: 'median' }),
    row(name, 'run without settings over node -e 0', 'ms', over('cli run without settings'), { op: '<=', value: 100, on: 'median' }),
  ];
  return { name: 'coldstart', rows, details: { times }, failures };
}
