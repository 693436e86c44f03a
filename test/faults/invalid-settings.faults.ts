/**
 * Promise: a bad setting stops everything before anything happens. Every
 * rule in src/config.ts (loadConfig) and src/serve.ts (loadServiceSettings)
 * is broken once, on its own: the CLI exits 2 and the service refuses to
 * start, the extension answers HTTP 400, each naming exactly that setting;
 * Auth0 gets no request, Papertrail no message, and the stored state is
 * neither created nor changed. Breaking every rule at once names them all.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FakeTenant } from '../support/fake-tenant';
import type { RsyslogReceiver } from '../support/rsyslog-receiver';
import { emptyState } from '../../src/storage/state';
import { recordFigures, RANK, stopwatch } from './support/figures';
import { httpCall, useHarness, type Env } from './support/harness';
import { fingerprint } from './support/state';

/** A setting broken one way; `value: null` leaves it unset. */
interface Case {
  setting: string;
  value: string | null;
  rule: string;
}

const CONFIG_CASES: readonly Case[] = [
  { setting: 'AUTH0_DOMAIN', value: null, rule: 'required' },
  { setting: 'AUTH0_DOMAIN', value: 'https://tenant.example.com', rule: 'no scheme' },
  { setting: 'AUTH0_DOMAIN', value: 'tenant example.com', rule: 'a host name' },
  { setting: 'AUTH0_DOMAIN', value: 'tenant.example.com:70000', rule: 'port within 1-65535' },
  { setting: 'AUTH0_CLIENT_ID', value: null, rule: 'required' },
  { setting: 'AUTH0_CLIENT_SECRET', value: '   ', rule: 'required (blank)' },
  { setting: 'PAPERTRAIL_HOST', value: null, rule: 'required' },
  { setting: 'PAPERTRAIL_HOST', value: 'logs5.papertrailapp.com:12345', rule: 'a host name, no port' },
  { setting: 'PAPERTRAIL_PORT', value: null, rule: 'required' },
  { setting: 'PAPERTRAIL_PORT', value: 'port', rule: 'a number' },
  { setting: 'PAPERTRAIL_PORT', value: '0', rule: 'at least 1' },
  { setting: 'PAPERTRAIL_PORT', value: '65536', rule: 'at most 65535' },
  { setting: 'PAPERTRAIL_PORT', value: '12.5', rule: 'a whole number' },
  { setting: 'PAPERTRAIL_TOKEN', value: '012345-ABC DEF_klmnopqrst', rule: 'SD-NAME characters (no spaces)' },
  { setting: 'PAPERTRAIL_TOKEN', value: '[012345-ABCDEFGHIJ_klmnopqrst@41058]', rule: 'the token alone, not the element' },
  { setting: 'PAPERTRAIL_TOKEN', value: 'short', rule: 'at least 8 characters' },
  { setting: 'PAPERTRAIL_SYSTEM', value: 'my system', rule: 'no spaces' },
  { setting: 'PAPERTRAIL_SYSTEM', value: 's'.repeat(121), rule: 'at most 120 characters' },
  { setting: 'PAPERTRAIL_PROGRAM', value: 'my program', rule: 'no spaces' },
  { setting: 'PAPERTRAIL_PROGRAM', value: 'p'.repeat(49), rule: 'at most 48 characters' },
  { setting: 'BATCH_SIZE', value: '0', rule: 'at least 1' },
  { setting: 'BATCH_SIZE', value: '101', rule: 'at most 100' },
  { setting: 'BATCH_SIZE', value: 'ten', rule: 'a number' },
  { setting: 'BATCH_SIZE', value: '-5', rule: 'no sign' },
  { setting: 'LOG_LEVEL', value: 'noisy', rule: 'a level name' },
  { setting: 'LOG_LEVEL', value: '5', rule: 'a level 0-4' },
  { setting: 'LOG_TYPES', value: 's,fail-over', rule: 'type codes' },
  { setting: 'START_FROM', value: 'not-a-log-id', rule: 'a log id' },
  { setting: 'START_FROM', value: '9'.repeat(129), rule: 'at most 128 characters' },
  { setting: 'MAX_RUN_SECONDS', value: '4', rule: 'at least 5' },
  { setting: 'MAX_RUN_SECONDS', value: '86401', rule: 'at most 86400' },
  { setting: 'MAX_RUN_SECONDS', value: '10s', rule: 'a whole number' },
  { setting: 'ADMIN_TOKEN', value: 'short-token', rule: 'at least 16 characters' },
  { setting: 'ADMIN_TOKEN', value: 'long enough but has spaces', rule: 'no spaces' },
  { setting: 'SLACK_INCOMING_WEBHOOK_URL', value: 'http://hooks.example.com/services/T0/B0/plaintext', rule: 'https only' },
  { setting: 'SLACK_INCOMING_WEBHOOK_URL', value: 'hooks.example.com/services/T0/B0/x', rule: 'a URL' },
  { setting: 'SLACK_SEND_SUCCESS', value: 'yes', rule: 'true or false' },
  { setting: 'LAG_ALERT_MINUTES', value: '0', rule: 'at least 1' },
  { setting: 'LAG_ALERT_MINUTES', value: '10081', rule: 'at most 10080' },
];

const SERVICE_CASES: readonly Case[] = [
  { setting: 'SCHEDULE', value: 'every five minutes', rule: '5 or 6 fields' },
  { setting: 'SCHEDULE', value: '* * * * * * *', rule: 'at most 6 fields' },
  { setting: 'SCHEDULE', value: '61 * * * *', rule: 'a valid cron expression' },
  { setting: 'PORT', value: 'http', rule: 'a number' },
  { setting: 'PORT', value: '65536', rule: 'at most 65535' },
  { setting: 'METRICS_TOKEN', value: 'short-token', rule: 'at least 16 characters' },
];

/** Every loadConfig rule broken at once. */
const ALL_AT_ONCE: Readonly<Record<string, string>> = {
  AUTH0_DOMAIN: 'https://tenant.example.com', AUTH0_CLIENT_ID: '', AUTH0_CLIENT_SECRET: '', PAPERTRAIL_HOST: 'bad host', PAPERTRAIL_PORT: '0',
  PAPERTRAIL_SYSTEM: 'a b', PAPERTRAIL_PROGRAM: 'a b', BATCH_SIZE: '1000', LOG_LEVEL: 'loud', LOG_TYPES: 'a-b', START_FROM: 'x-y',
  MAX_RUN_SECONDS: '1', ADMIN_TOKEN: 'short', PAPERTRAIL_TOKEN: 'has = sign',
  SLACK_INCOMING_WEBHOOK_URL: 'ftp://hooks.example.com/x', SLACK_SEND_SUCCESS: 'maybe', LAG_ALERT_MINUTES: 'soon',
};

const h = useHarness();

function withCase(env: Record<string, string>, c: Case): Record<string, string> {
  const { [c.setting]: _dropped, ...rest } = env;
  return c.value === null ? rest : { ...rest, [c.setting]: c.value };
}

const label = (c: Case): string => `${c.setting} ${c.value === null ? 'unset' : JSON.stringify(c.value.length > 30 ? `${c.value.slice(0, 12)}…(${c.value.length})` : c.value)} (${c.rule})`;

/** A state file that exists, so that "not changed" is tested as well as "not created". */
function seedState(file: string): void {
  writeFileSync(file, `${JSON.stringify({ ...emptyState(), checkpoint: '90020250101000000000000000000000000000000000000000000042' }, null, 2)}\n`);
}

interface Before {
  files: string[];
  state: string | null;
  messages: number;
}

/** Takes the "before" picture of one case; the tenant's counters restart from zero. */
async function snapshot(tenant: FakeTenant, receiver: RsyslogReceiver, stateFile: string, state = fingerprint(stateFile)): Promise<Before> {
  tenant.resetStats();
  return { files: readdirSync(dirname(stateFile)).sort(), state, messages: (await receiver.messages()).length };
}

/** What must stay untouched: Auth0, Papertrail, and the state directory. */
async function untouched(tenant: FakeTenant, receiver: RsyslogReceiver, stateFile: string, before: Before): Promise<string[]> {
  const problems: string[] = [];
  const stats = tenant.stats();
  if (stats.tokenRequests + stats.logsRequests > 0) problems.push(`${stats.tokenRequests} token and ${stats.logsRequests} logs requests to Auth0`);
  const messages = (await receiver.messages()).length - before.messages;
  if (messages > 0) problems.push(`${messages} messages to Papertrail`);
  const files = readdirSync(dirname(stateFile)).sort();
  if (files.join() !== before.files.join()) problems.push(`state dir now holds ${files.join(', ')}`);
  if (fingerprint(stateFile) !== before.state) problems.push('state changed');
  return problems;
}

describe('invalid settings', () => {
  let tenant: FakeTenant;
  let receiver: RsyslogReceiver;
  let env: Env;
  let stateDir: string;

  beforeEach(async () => {
    tenant = await h.tenant({ count: 10 });
    receiver = await h.receiver();
    env = h.env(tenant, receiver);
    stateDir = mkdtempSync(join(tmpdir(), 'a0pt-faults-settings-'));
    h.defer(() => rmSync(stateDir, { recursive: true, force: true }));
  });

  it('CLI run: each broken rule of src/config.ts exits 2 naming exactly that setting, with no request to Auth0 or Papertrail and the state untouched', async () => {
    const elapsed = stopwatch();
    const failures: string[] = [];
    const stateFile = join(stateDir, 'state.json');
    seedState(stateFile);
    for (const c of CONFIG_CASES) {
      const before = await snapshot(tenant, receiver, stateFile);
      const result = await h.run(withCase({ ...env, STORAGE_FILE: stateFile }, c));
      const named = ((result.report?.['error'] as { details?: { problems?: { setting: string }[] } } | undefined)?.details?.problems ?? []).map((p) => p.setting);
      const problems = await untouched(tenant, receiver, stateFile, before);
      if (result.code !== 2) problems.push(`exit ${String(result.code)}`);
      if (named.join() !== c.setting) problems.push(`report names [${named.join(', ')}]`);
      if (!result.stderr.includes(`- ${c.setting}: `) || !result.stderr.includes('To fix:')) problems.push(`stderr: ${result.stderr.slice(0, 200)}`);
      if (problems.length > 0) failures.push(`${label(c)}: ${problems.join('; ')}`);
    }
    record('invalid settings: CLI run, each config rule', CONFIG_CASES.length, failures, elapsed());
    expect(failures).toEqual([]);
  }, 120_000);

  it('serve: each broken rule of src/serve.ts exits 2 naming exactly that setting, without listening, fetching or shipping', async () => {
    const elapsed = stopwatch();
    const failures: string[] = [];
    const stateFile = join(stateDir, 'state.json');
    seedState(stateFile);
    for (const c of SERVICE_CASES) {
      const before = await snapshot(tenant, receiver, stateFile);
      const result = await h.cli(['serve'], withCase({ ...env, STORAGE_FILE: stateFile, HOST: '127.0.0.1', PORT: '0' }, c)).done;
      const problems = await untouched(tenant, receiver, stateFile, before);
      const named = [...result.stderr.matchAll(/^ {2}- ([A-Z0-9_]+): /gm)].map((m) => m[1]);
      if (result.code !== 2) problems.push(`exit ${String(result.code)}`);
      if (named.join() !== c.setting) problems.push(`stderr names [${named.join(', ')}]`);
      if (/serving on/.test(result.stderr)) problems.push('it listened');
      if (problems.length > 0) failures.push(`${label(c)}: ${problems.join('; ')}`);
    }
    record('invalid settings: serve, each service rule', SERVICE_CASES.length, failures, elapsed());
    expect(failures).toEqual([]);
  }, 120_000);

  it('webtask: each broken rule of src/config.ts answers 400 naming exactly that setting, with no request to Auth0 or Papertrail and no storage written', async () => {
    const elapsed = stopwatch();
    const failures: string[] = [];
    const { NODE_EXTRA_CA_CERTS: _ca, STORAGE_FILE: _file, ...secrets } = env;
    for (const c of CONFIG_CASES) {
      const host = await h.webtask(withCase(secrets, c));
      const before = await snapshot(tenant, receiver, host.storageFile);
      const answer = await httpCall(`${host.url}/`, 'POST', { body: { schedule: '0 */5 * * * *', state: 'active' } });
      const problems = await untouched(tenant, receiver, host.storageFile, before);
      const named = (answer.json?.['error'] as { settings?: string[] } | undefined)?.settings ?? [];
      if (answer.status !== 400) problems.push(`HTTP ${answer.status}`);
      if (named.join() !== c.setting) problems.push(`answer names [${named.join(', ')}]`);
      if (problems.length > 0) failures.push(`${label(c)}: ${problems.join('; ')}`);
      await host.close();
    }
    record('invalid settings: webtask, each config rule', CONFIG_CASES.length, failures, elapsed());
    expect(failures).toEqual([]);
  }, 180_000);

  it('every rule broken at once: the CLI exits 2 and the extension answers 400, each naming every setting, and no state file is created', async () => {
    const elapsed = stopwatch();
    const stateFile = join(stateDir, 'never-created.json');
    const settings = Object.keys(ALL_AT_ONCE).sort();
    const cli = await h.run({ ...env, ...ALL_AT_ONCE, STORAGE_FILE: stateFile });
    const named = ((cli.report?.['error'] as { details?: { problems?: { setting: string }[] } } | undefined)?.details?.problems ?? []).map((p) => p.setting);
    const { NODE_EXTRA_CA_CERTS: _ca, STORAGE_FILE: _file, ...secrets } = env;
    const host = await h.webtask({ ...secrets, ...ALL_AT_ONCE });
    const answer = await httpCall(`${host.url}/run`, 'POST', { body: {} });
    const failures: string[] = [];
    if (cli.code !== 2) failures.push(`CLI exit ${String(cli.code)}`);
    if ([...new Set(named)].sort().join() !== settings.join()) failures.push(`CLI names [${named.join(', ')}]`);
    if (answer.status !== 400) failures.push(`webtask HTTP ${answer.status}`);
    const answered = (answer.json?.['error'] as { settings?: string[] } | undefined)?.settings ?? [];
    if ([...new Set(answered)].sort().join() !== settings.join()) failures.push(`webtask names [${answered.join(', ')}]`);
    if (existsSync(stateFile)) failures.push('state file created');
    if (existsSync(host.storageFile)) failures.push('webtask storage created');
    const stats = tenant.stats();
    if (stats.tokenRequests + stats.logsRequests > 0) failures.push('Auth0 was called');
    if ((await receiver.messages()).length > 0) failures.push('Papertrail got messages');
    record('invalid settings: every rule broken at once', 2, failures, elapsed());
    expect(failures).toEqual([]);
  }, 60_000);
});

function record(scenario: string, cases: number, failures: readonly string[], wallMs: number): void {
  recordFigures({
    scenario,
    rank: RANK.settings,
    expected: 0,
    delivered: 0,
    missing: 0,
    duplicates: 0,
    runs: cases,
    wallMs,
    notes: `${cases - failures.length}/${cases} cases refused cleanly (named, nothing fetched, shipped or stored)`,
  });
}
