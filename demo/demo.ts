/**
 * `npm run demo`: the real CLI, end to end, with no Auth0 tenant and no
 * Papertrail account.
 *
 *   simulated Auth0 tenant (HTTPS) ──▶ node dist/cli.js run ──▶ TLS syslog receiver
 *
 * Everything listens on 127.0.0.1 only, uses the throwaway certificates in
 * demo/certs (trusted by the CLI through NODE_EXTRA_CA_CERTS, as a user with
 * a private CA would do), and is stopped before the demo exits, also on
 * failure and on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { lookupLogType } from '../src/auth0/log-types';
import { startFakeTenant, type FakeTenant } from '../test/support/fake-tenant';
import { startSyslogReceiver, type SyslogMessage } from './syslog-receiver';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const CERTS = join(__dirname, 'certs');

const EVENTS = 400;
const LOG_LEVEL = 'warning';
/** The stand-in plays a token destination: a made-up ingestion token, shaped like Papertrail's. */
const DEMO_TOKEN = '012345-DEMOTOKEN_abcdefgh';
const TOKEN_ELEMENT = `[${DEMO_TOKEN}@41058]`;
/** Levels 2 (warning) and up pass LOG_LEVEL=warning; types the table does not know always pass. */
const MIN_LEVEL = 2;
const SHOWN_LINES = 5;
/** The CLI normally finishes in about a second; this only guards against a hang. */
const CLI_TIMEOUT_MS = 40_000;

const SEVERITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

// ------------------------------------------------------------ output

const useAnsi = process.stdout.isTTY === true && !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb';
const bold = (text: string): string => (useAnsi ? `\x1b[1m${text}\x1b[22m` : text);
const dim = (text: string): string => (useAnsi ? `\x1b[2m${text}\x1b[22m` : text);
// A fixed width keeps the transcript the same in a pipe as in a terminal; only a narrower terminal shrinks it.
const WIDTH = Math.max(60, Math.min(100, process.stdout.isTTY ? process.stdout.columns : 100));

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** Text from the network or the child, made safe to print: no control character reaches the terminal. */
function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, '\ufffd');
}

/** Cuts `text` to `width` characters (code points, so no emoji is split), saying how long it was. */
function fit(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  const note = `… [${chars.length} chars]`;
  return chars.slice(0, width - note.length).join('') + note;
}

const pad = (value: string | number, width: number): string => String(value).padEnd(width);
const padLeft = (value: string | number, width: number): string => String(value).padStart(width);

// ------------------------------------------------------------ cleanup

/** Set once a signal arrives: the run's own failure (its CLI was killed) is then expected, not news. */
let interrupted = false;
/** Things to undo, newest last; run in reverse on exit, whatever the reason. */
const cleanups: Array<() => Promise<void> | void> = [];
let cleaning: Promise<boolean> | undefined;

/** Undoes everything, once however often it is called; resolves to whether every step succeeded. */
function cleanUp(): Promise<boolean> {
  cleaning ??= (async () => {
    let ok = true;
    for (const undo of [...cleanups].reverse()) {
      try {
        await undo();
      } catch (error) {
        ok = false;
        process.stderr.write(`demo: cleanup step failed: ${describe(error)}\n`);
      }
    }
    return ok;
  })();
  return cleaning;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Stops a child: SIGTERM first, SIGKILL if it has not exited within 3 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// ------------------------------------------------------------ the CLI run

interface RunReport {
  status: string;
  fetched: number;
  exported: number;
  filteredOut: number;
  truncated: number;
  pages: number;
  checkpoint: string | null;
  durationMs: number;
  error?: { message: string };
}

/** Runs `node dist/cli.js run` the way a user would, echoing its progress lines as they come. */
async function runCli(env: Record<string, string>, cwd: string): Promise<RunReport> {
  // A signal may have arrived while the servers were starting: cleanup has begun, so start nothing new.
  if (interrupted) throw new Error('interrupted');
  const child = spawn(process.execPath, [CLI, 'run'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => stopChild(child));

  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  createInterface({ input: child.stderr }).on('line', (line) => say(dim(`    ${printable(line)}`)));

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the CLI did not finish within ${CLI_TIMEOUT_MS / 1000} s`));
    }, CLI_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not start the CLI: ${error.message}`));
    });
    // 'close', not 'exit': by then stdout has been read to the end.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });

  let report: RunReport;
  try {
    report = JSON.parse(stdout) as RunReport;
  } catch {
    throw new Error(`the CLI exited with ${exit.signal ?? `code ${exit.code}`} and printed no run report`);
  }
  if (exit.code !== 0 || report.status !== 'ok') {
    throw new Error(`the CLI run failed (exit code ${exit.code}, status ${report.status}): ${report.error?.message ?? 'no error message'}`);
  }
  return report;
}

// ------------------------------------------------------------ checks and summary

/** The log_ids the CLI must deliver: every event at or above the level, in log_id order. */
function expectedIds(tenant: FakeTenant): string[] {
  const ids: string[] = [];
  for (let i = 0; i < tenant.size(); i++) {
    const event = tenant.eventAt(i);
    const level = event.type === undefined ? undefined : lookupLogType(event.type)?.level;
    if ((level ?? Infinity) >= MIN_LEVEL) ids.push(event.log_id);
  }
  return ids;
}

/** The event a line carries (its MSG is the whole Auth0 event as JSON), or undefined if it is not JSON. */
function eventOf(message: SyslogMessage): Record<string, unknown> | undefined {
  try {
    const event: unknown = JSON.parse(message.msg);
    return typeof event === 'object' && event !== null && !Array.isArray(event) ? (event as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function logIdOf(message: SyslogMessage): string | undefined {
  const id = eventOf(message)?.['log_id'];
  return typeof id === 'string' ? id : undefined;
}

/** A few fields of the event, so the reader sees that the JSON cut off above is a whole Auth0 event. */
function digest(message: SyslogMessage): string {
  const event = eventOf(message) ?? {};
  const text = (key: string): string | undefined => {
    const value = event[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const parts = [text('description'), text('user_name'), text('ip')].filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join(' · ') : '(no description, user or ip)';
}

/** Fails the demo unless the receiver got exactly what the tenant held above the level, once each, in order. */
function verify(tenant: FakeTenant, messages: readonly SyslogMessage[], malformed: readonly string[], report: RunReport): void {
  const problems: string[] = [];
  if (malformed.length > 0) problems.push(`${malformed.length} received lines are not RFC 5424, e.g. ${fit(printable(malformed[0] ?? ''), 80)}`);
  const expected = expectedIds(tenant);
  const received = messages.map(logIdOf);
  if (received.length !== expected.length) {
    problems.push(`the receiver got ${received.length} events, the tenant holds ${expected.length} that the filter keeps`);
  } else {
    const at = received.findIndex((id, i) => id !== expected[i]);
    if (at !== -1) problems.push(`line ${at + 1} carries log_id ${received[at]}, expected ${expected[at]} (each kept event once, in log_id order)`);
  }
  const withoutToken = messages.filter((m) => m.structuredData !== TOKEN_ELEMENT).length;
  if (withoutToken > 0) problems.push(`${withoutToken} lines lack the token element ${TOKEN_ELEMENT} in STRUCTURED-DATA`);
  if (report.exported !== messages.length) problems.push(`the report says ${report.exported} exported, the receiver got ${messages.length}`);
  if (report.fetched !== tenant.size()) problems.push(`the report says ${report.fetched} fetched, the tenant holds ${tenant.size()}`);
  if (report.checkpoint !== (tenant.lastId() ?? null)) problems.push(`the checkpoint ${report.checkpoint} is not the newest log_id ${tenant.lastId()}`);
  if (problems.length > 0) throw new Error(`the export does not add up:\n  - ${problems.join('\n  - ')}`);
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

function printReceived(messages: readonly SyslogMessage[], connections: number): void {
  say(bold(`The receiver got ${messages.length} lines on ${connections} TLS connections (one per shipment). The first ${SHOWN_LINES}:`));
  say(dim('  (<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG; MSG is the whole event as JSON)'));
  for (const message of messages.slice(0, SHOWN_LINES)) {
    // The header and STRUCTURED-DATA whole; MSG cut to what is left of the width.
    const head = printable(message.raw.slice(0, message.raw.length - message.msg.length));
    say(`  ${head}${fit(printable(message.msg), Math.max(24, WIDTH - 2 - head.length))}`);
    say(dim(`      ↳ ${fit(printable(digest(message)), WIDTH - 8)}`));
  }
  const withToken = messages.filter((m) => m.structuredData === TOKEN_ELEMENT).length;
  say(`  STRUCTURED-DATA: ${withToken} of ${messages.length} lines carry ${TOKEN_ELEMENT}, the ingestion token a`);
  say('  token destination (syslog.collector.<REGION>.cloud.solarwinds.com:6514) files them by.');
  say();

  say(bold('By type (MSGID):'));
  const byType = [...countBy(messages, (m) => m.msgId)].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const typeWidth = Math.max(...byType.map(([type]) => type.length));
  for (const [type, count] of byType) {
    const severity = messages.find((m) => m.msgId === type)?.severity ?? 5;
    const name = lookupLogType(type)?.name ?? 'not in the type table, so never filtered out';
    say(`  ${pad(type, typeWidth)} ${padLeft(count, 4)}  ${pad(SEVERITY_NAMES[severity] ?? '?', 8)} ${printable(name)}`);
  }
  say();

  say(bold('By severity (PRI = local0 + severity):'));
  const bySeverity = countBy(messages, (m) => SEVERITY_NAMES[m.severity] ?? String(m.severity));
  // The five severities the product uses, always listed: the zero for info is the LOG_LEVEL filter at work.
  const shown = ['crit', 'err', 'warning', 'notice', 'info'];
  const extra = [...bySeverity.keys()].filter((name) => !shown.includes(name));
  say(`  ${[...shown, ...extra].map((name) => `${name} ${bySeverity.get(name) ?? 0}`).join('   ')}`);
  say();
}

function printReport(report: RunReport): void {
  say(bold('From the run report (the JSON the CLI prints on stdout):'));
  const rows: Array<[string, string]> = [
    ['fetched', `${report.fetched}`],
    ['exported', `${report.exported}${report.truncated > 0 ? ` (${report.truncated} truncated to fit Papertrail's limit)` : ''}`],
    ['filtered out', `${report.filteredOut} (below LOG_LEVEL=${LOG_LEVEL})`],
    ['pages', `${report.pages}`],
    ['checkpoint', `${report.checkpoint ?? '(none)'}`],
    ['duration', `${report.durationMs} ms`],
  ];
  for (const [label, value] of rows) say(`  ${pad(label, 13)} ${value}`);
  say();
}

// ------------------------------------------------------------ main

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing; run "npm run build" first (npm run demo does it for you)`);
  const tlsFiles = { ca: join(CERTS, 'ca.pem'), cert: join(CERTS, 'server.pem'), key: join(CERTS, 'server-key.pem') };
  const ca = readFileSync(tlsFiles.ca, 'utf8');
  const cert = readFileSync(tlsFiles.cert, 'utf8');
  const key = readFileSync(tlsFiles.key, 'utf8');

  // The CLI's working directory and state file: a fresh temp dir, so a developer's
  // ./.env or ./data/state.db never leaks into the demo and the demo never touches them.
  const workDir = mkdtempSync(join(tmpdir(), 'a0pt-demo-'));
  cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));

  // One event every 8 s, so the 400 events spread over the last hour as on a real tenant;
  // seed 3's sample holds every kind of event the summary explains (a blocked account, unknown types).
  const tenant = await startFakeTenant({
    count: EVENTS,
    seed: 3,
    start: new Date(Date.now() - 3600_000),
    perSecond: 1 / 8,
    hostileEvery: 0,
    cert,
    key,
    ca,
    caFile: tlsFiles.ca,
  });
  cleanups.push(() => tenant.stop());
  const receiver = await startSyslogReceiver({ cert, key });
  cleanups.push(() => receiver.stop());

  say(bold('auth0-logs-to-papertrail demo: the real CLI, a simulated tenant, a local Papertrail stand-in'));
  say(`  Auth0 tenant (simulated)  ${tenant.url}  ${EVENTS} log events from the last hour`);
  say(`  Papertrail (stand-in)     tls://127.0.0.1:${receiver.port}  a token destination: TLS syslog, RFC 5424, one JSON event per line`);
  say(`  Both use demo/certs; the CLI trusts that CA through NODE_EXTRA_CA_CERTS.`);
  say();

  const settings: Record<string, string> = {
    AUTH0_DOMAIN: tenant.domain,
    AUTH0_CLIENT_ID: tenant.clientId,
    AUTH0_CLIENT_SECRET: tenant.clientSecret,
    PAPERTRAIL_HOST: '127.0.0.1',
    PAPERTRAIL_PORT: String(receiver.port),
    PAPERTRAIL_TOKEN: DEMO_TOKEN,
    LOG_LEVEL,
    STORAGE_FILE: join(workDir, 'state.db'),
    MAX_RUN_SECONDS: '30',
  };
  say(bold(`$ PAPERTRAIL_TOKEN=${DEMO_TOKEN} LOG_LEVEL=${LOG_LEVEL} node dist/cli.js run     (progress lines from its stderr)`));
  // Only these variables: settings from the developer's shell (LOG_TYPES, START_FROM, …) must not change the demo.
  const report = await runCli({ PATH: process.env['PATH'] ?? '', NODE_EXTRA_CA_CERTS: tlsFiles.ca, ...settings }, workDir);
  say();

  // Shown before the check, so that a failed check has the evidence above it.
  printReceived(receiver.messages, receiver.connectionsWithData());
  printReport(report);
  verify(tenant, receiver.messages, receiver.malformed, report);

  say('Checked: every event the filter keeps (warning and above, plus unknown types) arrived exactly');
  say('once, in log_id order, each with the token element, and the checkpoint is the newest log_id:');
  say('the next run starts after it.');
}

function printClosing(): void {
  say(`Demo done in ${process.uptime().toFixed(1)} s after the build; the tenant, the receiver and the CLI are stopped.`);
  say();
  say('To export your own tenant: create an Auth0 application with read:logs and a Papertrail log');
  say('destination, then follow "Quick start" in README.md: set AUTH0_DOMAIN, AUTH0_CLIENT_ID,');
  say('AUTH0_CLIENT_SECRET, PAPERTRAIL_HOST, PAPERTRAIL_PORT and, for a token destination,');
  say('PAPERTRAIL_TOKEN (in .env or the environment) and run `node dist/cli.js run`.');
}

// Ctrl-C (or a kill) mid-run: stop everything the demo started, then leave with the usual 128 + signal number.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`\ndemo: ${signal} received; stopping the tenant, the receiver and the CLI\n`);
    void cleanUp().finally(() => process.exit(128 + constants.signals[signal]));
  });
}

main().then(
  async () => {
    if (await cleanUp()) printClosing();
    else process.exitCode = 1;
  },
  async (error: unknown) => {
    if (!interrupted) process.stderr.write(`\ndemo failed: ${describe(error)}\n`);
    await cleanUp();
    process.exitCode = 1;
  },
);
