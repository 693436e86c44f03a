/**
 * Hosts the built extension bundle in webtask-runtime's server, as the
 * Extensions platform would: secrets, file-backed ctx.storage, real HTTP,
 * in a process of its own. The bundle is loaded from a directory with no
 * node_modules, so anything it did not bundle cannot be found.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function bundlePath(): string {
  const dist = join(__dirname, '..', '..', 'dist');
  const bundle = readdirSync(dist).find((f) => /^auth0-logs-to-papertrail\.extension\..+\.js$/.test(f));
  if (!bundle) throw new Error('No extension bundle in dist/: run npm run build.');
  return join(dist, bundle);
}

export interface WebtaskHost {
  /** The extension's URL: the server's root, or the platform's prefix when one was asked for (no trailing slash). */
  url: string;
  storageFile: string;
  /** What the extension printed: the realtime logs. */
  output(): string;
  close(): Promise<void>;
}

export interface WebtaskHostOptions {
  caFile?: string;
  storageFile?: string;
  /** Serve below /api/run/<container>/<name>, as the platform's shared domain does. */
  prefix?: { container: string; name: string };
}

export async function startWebtaskHost(secrets: Record<string, string>, options: WebtaskHostOptions = {}): Promise<WebtaskHost> {
  const dir = mkdtempSync(join(tmpdir(), 'a0pt-webtask-'));
  const isolated = join(dir, 'extension.js');
  copyFileSync(bundlePath(), isolated);
  const storageFile = options.storageFile ?? join(dir, 'storage.json');
  const prefixArgs = options.prefix ? [options.prefix.container, options.prefix.name] : [];
  const child = spawn(process.execPath, [join(__dirname, 'webtask-host-main.js'), isolated, storageFile, ...prefixArgs], {
    env: { PATH: process.env['PATH'] ?? '', ...(options.caFile ? { NODE_EXTRA_CA_CERTS: options.caFile } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stdin.end(JSON.stringify(secrets));
  const port = await new Promise<number>((resolve, reject) => {
    let pending: string | null = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      if (pending === null) {
        output += c;
        return;
      }
      pending += c;
      const end = pending.indexOf('\n');
      if (end < 0) return;
      // The first line is the host's; the rest is the extension's console output.
      resolve((JSON.parse(pending.slice(0, end)) as { port: number }).port);
      output += pending.slice(end + 1);
      pending = null;
    });
    child.on('exit', (code) => reject(new Error(`webtask host exited with ${String(code)}: ${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}${options.prefix ? `/api/run/${options.prefix.container}/${options.prefix.name}` : ''}`,
    storageFile,
    output: () => output,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
      }),
  };
}
