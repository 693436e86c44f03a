/** Runs the built CLI as a real child process, the way users run it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (the run report), or undefined. */
  report: Record<string, unknown> | undefined;
}

const running = new Set<ChildProcess>();

/** Kills any CLI a test left behind; call from afterAll/afterEach. */
export function killAllClis(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** `node`: the executable to run it with (a Node build from test/runtimes); default this process's. */
export function startCli(args: readonly string[], env: Record<string, string>, cwd?: string, node: string = process.execPath): { child: ChildProcess; done: Promise<CliResult> } {
  // Only the variables given: the developer's own environment must not leak into a test.
  const child = spawn(node, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running.delete(child);
      let report: Record<string, unknown> | undefined;
      try {
        report = JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        report = undefined;
      }
      resolve({ code, signal, stdout, stderr, report });
    });
  });
  return { child, done };
}

export function runCli(args: readonly string[], env: Record<string, string>, cwd?: string, node?: string): Promise<CliResult> {
  return startCli(args, env, cwd, node).done;
}
