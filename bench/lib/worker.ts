/**
 * Runs a bench worker (a TypeScript file in bench/workers) in a Node process
 * of its own. Shipping must be measured the way the product runs: alone in
 * its process, trusting the test CA through NODE_EXTRA_CA_CERTS. (Passing
 * the CA in code instead, as `TlsSyslogSink`'s `ca` option does, rebuilds a
 * TLS context from every system root on each connection: ~20 ms per page.)
 *
 * Protocol: the input is argv[2] as JSON; the worker prints its result as
 * one JSON line on stdout and exits 0, or explains itself on stderr.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { track } from './cleanup';

export const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;

export function workerPath(name: string): string {
  return join(__dirname, '..', 'workers', `${name}.ts`);
}

export async function runWorker<Output>(name: string, input: unknown, env: { caFile: string }): Promise<Output> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, workerPath(name), JSON.stringify(input)], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', NODE_EXTRA_CA_CERTS: env.caFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const release = track(`worker ${name} pid ${child.pid ?? '?'}`, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    });
    if (code !== 0) throw new Error(`worker ${name} exited with ${code ?? signal}: ${stderr.trim() || '(no output)'}`);
    const last = stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(last) as Output;
  } finally {
    await release();
  }
}

/** For workers: reads the input, runs `main`, prints its result, exits non-zero on failure. */
export function workerMain<Input, Output>(main: (input: Input) => Promise<Output>): void {
  const raw = process.argv[2];
  if (raw === undefined) {
    process.stderr.write('worker: missing JSON input argument\n');
    process.exit(2);
  }
  main(JSON.parse(raw) as Input).then(
    (output) => {
      process.stdout.write(`${JSON.stringify(output)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
