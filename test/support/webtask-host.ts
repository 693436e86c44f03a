/**
 * Hosts the built extension bundle as the Extensions platform would: secrets,
 * file-backed ctx.storage, real HTTP, in a process of its own. The bundle is
 * loaded from a directory with no node_modules, so anything it did not bundle
 * cannot be found.
 *
 * Two hosts, on this Node or on Node 18 (Auth0's extension runtime):
 * - `webtask-runtime`: that package's server, with storage that never tears;
 * - `wt-serve`: wt-cli's `wt serve`, as users run the extension locally. It
 *   loads agent-base@4, which patches https.request process-wide.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBinary, wtCli, type NodeVersion } from './test-runtimes';

export type WebtaskRuntime = 'webtask-runtime' | 'wt-serve';

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
  /** Serve below /api/run/<container>/<name>, as the platform's shared domain does (webtask-runtime only). */
  prefix?: { container: string; name: string };
  /** Default `webtask-runtime`. */
  runtime?: WebtaskRuntime;
  /** Default `current` (this process's Node). */
  node?: NodeVersion;
}

export async function startWebtaskHost(secrets: Record<string, string>, options: WebtaskHostOptions = {}): Promise<WebtaskHost> {
  const dir = mkdtempSync(join(tmpdir(), 'a0pt-webtask-'));
  const isolated = join(dir, 'extension.js');
  copyFileSync(bundlePath(), isolated);
  const storageFile = options.storageFile ?? join(dir, 'storage.json');
  if (options.runtime === 'wt-serve' && options.prefix) throw new Error('wt serve answers at the root only; a prefix needs webtask-runtime.');
  const prefixArgs = options.prefix ? [options.prefix.container, options.prefix.name] : [];
  const args = options.runtime === 'wt-serve'
    ? [wtCli(), 'serve', isolated, '--hostname', '127.0.0.1', '--port', '0', '--storage-file', storageFile, '--parse-body', ...Object.entries(secrets).flatMap(([k, v]) => ['--secret', `${k}=${v}`])]
    : [join(__dirname, 'webtask-host-main.js'), isolated, storageFile, ...prefixArgs];
  const child = spawn(nodeBinary(options.node ?? 'current'), args, {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', ...(options.caFile ? { NODE_EXTRA_CA_CERTS: options.caFile } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  if (options.runtime === 'wt-serve') {
    child.stdin.end();
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        output += c;
        // "Your webtask is now listening for IPv4 traffic on 127.0.0.1:PORT", in colour.
        const m = /listening for \S+ traffic on \S+?:(\d+)/.exec(output.replace(/\u001b\[[0-9;]*m/g, ''));
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`wt serve exited with ${String(code)}: ${output}`)));
    });
    return hostOf(child, `http://127.0.0.1:${port}`, storageFile, () => output);
  }
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
  return hostOf(child, `http://127.0.0.1:${port}${options.prefix ? `/api/run/${options.prefix.container}/${options.prefix.name}` : ''}`, storageFile, () => output);
}

function hostOf(child: ChildProcess, url: string, storageFile: string, output: () => string): WebtaskHost {
  return {
    url,
    storageFile,
    output,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
      }),
  };
}
