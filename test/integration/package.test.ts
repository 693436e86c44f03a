/**
 * The package as users get it: packed from a clean checkout (no dist/, so
 * `npm pack` must build it first), installed globally into a throwaway prefix
 * by Node 24 from the npm registry (which compiles the SQLite driver for that
 * Node), and run from the installed copy, never from this checkout.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createTestPki } from '../support/certs';
import { checkDelivery } from '../support/delivery';
import type { TenantEvent } from '../support/events';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant } from '../support/fake-tenant';
import { startRsyslogReceiver, stopAllReceivers } from '../support/rsyslog-receiver';
import { nodeDir } from '../support/test-runtimes';

const ROOT = join(__dirname, '..', '..');
const NAME = 'auth0-logs-to-papertrail';
const { version: VERSION } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** npm's own entry script: run by a given node, npm installs for that node. */
function npmCli(): string {
  if (process.env['npm_execpath']) return process.env['npm_execpath'];
  const npm = (process.env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, 'npm')).find((candidate) => {
    try {
      return realpathSync(candidate) !== '';
    } catch {
      return false;
    }
  });
  if (npm === undefined) throw new Error('npm is not on PATH');
  return realpathSync(npm);
}

/** The checkout's files as they are in the working tree, minus what git ignores (dist/, node_modules, .env): nothing built. */
function cleanCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'a0pt-checkout-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter((f) => f !== '');
  for (const file of files) {
    if (!existsSync(join(ROOT, file))) continue; // deleted, not yet committed
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  // The build tools, as `npm ci` would have installed them.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function run(file: string, args: readonly string[], options: { cwd?: string; env: Record<string, string> }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Directories named `name` anywhere under `dir`. */
function findDirs(dir: string, name: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === name) found.push(path);
    found.push(...findDirs(path, name));
  }
  return found;
}

const tenants: FakeTenant[] = [];
/** The checkout copy, the tarball and the install prefix: a few hundred MB, removed at the end. */
const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(tenants.map((t) => t.stop()));
  await stopAllReceivers();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('the published package', () => {
  const node24 = nodeDir('24');
  // The user's environment (registry settings, proxies, extra CAs) without what an enclosing `npm test`
  // adds, and Node 24 first on PATH: the package's bin (#!/usr/bin/env node) and the install scripts run on it.
  const userEnv = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !/^npm_/i.test(entry[0])));
  const env = { ...userEnv, PATH: `${join(node24, 'bin')}${delimiter}${process.env['PATH'] ?? '/usr/bin:/bin'}` };
  let prefix: string;
  let packed: string[];

  beforeAll(async () => {
    const checkout = cleanCheckout();
    const out = mkdtempSync(join(tmpdir(), 'a0pt-pack-'));
    scratch.push(checkout, out);
    const pack = await run(process.execPath, [npmCli(), 'pack', '--json', '--pack-destination', out], { cwd: checkout, env: userEnv });
    if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr.slice(-2000)}`);
    const [result] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    packed = result!.files.map((f) => f.path);

    prefix = mkdtempSync(join(tmpdir(), 'a0pt-prefix-'));
    scratch.push(prefix);
    // Node's headers come with the build from npm: node-gyp needs no download when no prebuilt driver fits.
    const install = await run(join(node24, 'bin', 'node'), [npmCli(), 'install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', join(out, result!.filename)], {
      env: { ...env, npm_config_nodedir: node24 },
    });
    if (install.code !== 0) throw new Error(`installing the tarball with Node 24 failed: ${install.stderr.slice(-4000)}`);
  }, 20 * 60_000);

  it('holds what users need and nothing else: the CLI, the extension bundle, webtask.json, .env.example, README and licence, no source maps or sources', () => {
    for (const file of ['package.json', 'README.md', 'LICENSE', '.env.example', 'webtask.json', 'dist/cli.js', `dist/auth0-logs-to-papertrail.extension.${VERSION}.js`, 'dist/dashboard/dashboard-assets.json']) {
      expect(packed).toContain(file);
    }
    expect(packed.filter((f) => f.endsWith('.map') || f.endsWith('.ts') || f.startsWith('src/') || f.startsWith('test/') || f === '.env')).toEqual([]);
    expect(packed.every((f) => ['package.json', 'README.md', 'LICENSE', '.env.example', 'webtask.json'].includes(f) || f.startsWith('dist/'))).toBe(true);
  });

  it('installs a bin that prints the version and the help on Node 24', async () => {
    const bin = join(prefix, 'bin', NAME);
    const version = await run(bin, ['--version'], { env });
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const help = await run(bin, ['--help'], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: auth0-logs-to-papertrail <command>/);
  });

  it('brings no webtask stack into the installed tree', () => {
    const installed = join(prefix, 'lib', 'node_modules');
    expect(readdirSync(installed)).toEqual([NAME]);
    expect(findDirs(installed, 'webtask-tools')).toEqual([]);
    expect(findDirs(installed, 'webtask-runtime')).toEqual([]);
  });

  it('drains 5,000 events from the tenant into Papertrail from the installed copy, each exactly once, state in SQLite', async () => {
    const pki = createTestPki();
    const tenant = await startFakeTenant({ count: 5_000, start: new Date(Date.now() - 2 * 24 * 3600 * 1000), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile });
    tenants.push(tenant);
    const receiver = await startRsyslogReceiver({ cert: pki.server });
    const settings = exportEnv(tenant, receiver);
    // Only PATH and the run's settings: nothing of this machine's own configuration.
    const result = await run(join(prefix, 'bin', NAME), ['run'], { cwd: dirname(settings.STORAGE_FILE), env: { PATH: env.PATH, ...settings } });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'ok', fetched: 5_000, exported: 5_000 });
    const events: TenantEvent[] = Array.from({ length: tenant.size() }, (_, i) => tenant.eventAt(i));
    expect(checkDelivery(events, await receiver.messages())).toMatchObject({ expected: 5_000, delivered: 5_000, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
  }, 120_000);
});
